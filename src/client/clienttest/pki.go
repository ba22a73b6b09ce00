// Package clienttest runs a fake replicasd API server over mutual TLS, with
// the certificates to talk to it (good and bad ones), for tests of the
// client package, replicactl, and anything else that drives the API.
//
// The fake follows the contract closely enough for clients (paths, JSON,
// ETag and If-Match, the error envelope); it is not the real server.
package clienttest

import (
	"path/filepath"
	"testing"

	"github.com/replicasd/replicasd/src/certs"
)

// DefaultUser is the common name of the client certificate in CertFile.
const DefaultUser = "alice"

// PKI is a test CA that signs both the server's certificate and the client
// certificates the server accepts, written to files in Dir.
type PKI struct {
	Dir string
	CA  *certs.Pair
	// CAFile is the CA certificate: the client's --ca.
	CAFile string
	// Server is the server certificate (localhost, 127.0.0.1, ::1).
	Server *certs.Pair
	// CertFile and KeyFile are a valid client certificate for DefaultUser
	// in group "sre".
	CertFile, KeyFile string
}

// NewPKI creates the CA, the server certificate and a client certificate
// in a temporary directory removed when the test ends.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	ca, err := certs.NewCA("clienttest CA")
	if err != nil {
		t.Fatalf("creating CA: %v", err)
	}
	server, err := ca.IssueServer(nil)
	if err != nil {
		t.Fatalf("issuing server certificate: %v", err)
	}
	p := &PKI{Dir: t.TempDir(), CA: ca, Server: server}
	p.CAFile = filepath.Join(p.Dir, "ca.crt")
	if err := certs.WriteFile(p.CAFile, ca.CertPEM, certs.CertFileMode); err != nil {
		t.Fatal(err)
	}
	p.CertFile, p.KeyFile = p.ClientFiles(t, ca, DefaultUser, []string{"sre"})
	return p
}

// ClientFiles issues a client certificate for cn (groups orgs) signed by
// signer, which need not be the PKI's CA, writes it as Dir/cn.crt and
// Dir/cn.key and returns the paths. Options such as certs.WithValidity
// build certificates the server must refuse.
func (p *PKI) ClientFiles(t testing.TB, signer *certs.Pair, cn string, orgs []string, opts ...certs.Option) (certFile, keyFile string) {
	t.Helper()
	pair, err := signer.IssueClient(cn, orgs, opts...)
	if err != nil {
		t.Fatalf("issuing client certificate %q: %v", cn, err)
	}
	return p.WritePair(t, cn, pair)
}

// WritePair writes pair as Dir/base.crt and Dir/base.key and returns the
// paths.
func (p *PKI) WritePair(t testing.TB, base string, pair *certs.Pair) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(p.Dir, base+".crt"), filepath.Join(p.Dir, base+".key")
	if err := pair.WriteFiles(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// OtherCA returns a new CA that nothing trusts, written as Dir/name.crt,
// with the path of its certificate.
func (p *PKI) OtherCA(t testing.TB, name string) (*certs.Pair, string) {
	t.Helper()
	ca, err := certs.NewCA(name)
	if err != nil {
		t.Fatalf("creating CA %q: %v", name, err)
	}
	path := filepath.Join(p.Dir, name+".crt")
	if err := certs.WriteFile(path, ca.CertPEM, certs.CertFileMode); err != nil {
		t.Fatal(err)
	}
	return ca, path
}
