package tlsconfig_test

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"log/slog"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/testkit"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// crlNumber makes each test CRL's number unique, as RFC 5280 wants.
var crlNumber struct {
	sync.Mutex
	n int64
}

// mustCRL returns a PEM CRL signed by ca, valid until nextUpdate, revoking
// the given certificates.
func mustCRL(t *testing.T, ca *certs.Pair, nextUpdate time.Time, revoked ...*certs.Pair) []byte {
	t.Helper()
	crlNumber.Lock()
	crlNumber.n++
	n := crlNumber.n
	crlNumber.Unlock()
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(n),
		ThisUpdate: nextUpdate.Add(-7 * 24 * time.Hour),
		NextUpdate: nextUpdate,
	}
	for _, p := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: p.Cert.SerialNumber, RevocationTime: time.Now().Add(-time.Minute),
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// withCRL adds a CRL file to f, holding crl.
func withCRL(t *testing.T, f *fixture, crl []byte) {
	t.Helper()
	f.cfg.ClientCRLFile = filepath.Join(f.dir, "crl.pem")
	writeRaw(t, f.cfg.ClientCRLFile, crl)
}

func TestRevokedCertificateRefused(t *testing.T) {
	f := newFixture(t)
	revoked := mustClient(t, f.clientCA, "mallory", nil)
	good := mustClient(t, f.clientCA, "bob", nil)
	// A second CA in the bundle with its own CRL: both lists apply.
	otherCA := mustCA(t, "second client CA")
	otherRevoked := mustClient(t, otherCA, "eve", nil)
	writeRaw(t, f.cfg.ClientCAFile, certs.Bundle(f.clientCA, otherCA))
	next := time.Now().Add(24 * time.Hour)
	withCRL(t, f, append(mustCRL(t, f.clientCA, next, revoked), mustCRL(t, otherCA, next, otherRevoked)...))
	srv := startServer(t, newReloader(t, f.cfg))

	for _, tt := range []struct {
		name string
		cert *certs.Pair
	}{
		{"revoked by the first CA's CRL", revoked},
		{"revoked by the second CA's CRL", otherRevoked},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantRefused(t, clientConfig(f, tt.cert), srv.addr, "bad certificate")
		})
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("handler ran %d times for revoked clients", n)
	}
	if resp := mustGet(t, newClient(f, good), srv.url); resp.identity.User != "bob" {
		t.Errorf("handler saw %q, want bob", resp.identity.User)
	}
	mustGet(t, newClient(f, mustClient(t, otherCA, "carol", nil)), srv.url)
}

func TestNewRefusesBadCRLFiles(t *testing.T) {
	impostor := mustCA(t, "client CA") // the fixture's client CA's name
	next := time.Now().Add(time.Hour)
	tests := []struct {
		name    string
		setup   func(t *testing.T, f *fixture)
		wantErr string
		wantIs  error
	}{
		{name: "missing", setup: func(t *testing.T, f *fixture) { f.cfg.ClientCRLFile = filepath.Join(f.dir, "nope.pem") }, wantIs: fs.ErrNotExist},
		{name: "empty", setup: func(t *testing.T, f *fixture) { withCRL(t, f, nil) }, wantErr: "no PEM X509 CRL blocks found"},
		{name: "a certificate instead", setup: func(t *testing.T, f *fixture) { withCRL(t, f, f.clientCA.CertPEM) },
			wantErr: `unexpected PEM block "CERTIFICATE", want only X509 CRL blocks`},
		{name: "damaged", setup: func(t *testing.T, f *fixture) {
			withCRL(t, f, []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"))
		}, wantErr: "parsing CRL 1"},
		// A CRL of a CA outside the bundle may come from an intermediate;
		// one that names a CA of the bundle must be that CA's.
		{name: "named after a trusted CA but signed by another key", setup: func(t *testing.T, f *fixture) { withCRL(t, f, mustCRL(t, impostor, next)) },
			wantErr: `CRL 1 (issuer "CN=client CA") is not signed by the CA of the client CA file that it names`},
		{name: "second CRL named after a trusted CA but signed by another key", setup: func(t *testing.T, f *fixture) {
			withCRL(t, f, append(mustCRL(t, f.clientCA, next), mustCRL(t, impostor, next)...))
		}, wantErr: "CRL 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(t, f)
			_, err := tlsconfig.New(f.cfg, testkit.TestLogger(t))
			if err == nil {
				t.Fatal("New succeeded, want an error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v, want one wrapping %v", err, tt.wantIs)
			}
			if tt.wantErr != "" {
				if want := "loading client CRL file " + f.cfg.ClientCRLFile + ": " + tt.wantErr; !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestExpiredCRLIsStillEnforced(t *testing.T) {
	f := newFixture(t)
	revoked := mustClient(t, f.clientCA, "mallory", nil)
	expiredAt := time.Now().Add(-time.Hour).Truncate(time.Second)
	withCRL(t, f, mustCRL(t, f.clientCA, expiredAt, revoked))
	logs := &testkit.Buffer{}
	r, err := tlsconfig.New(f.cfg, testkit.TextLogger(logs, slog.LevelInfo))
	if err != nil {
		t.Fatalf("New with an expired CRL: %v", err)
	}
	if got := r.ClientCRLNextUpdate(); !got.Equal(expiredAt) {
		t.Errorf("ClientCRLNextUpdate = %v, want %v", got, expiredAt)
	}
	if !strings.Contains(logs.String(), "the client CRL has expired") {
		t.Errorf("no warning about the expired CRL in the log:\n%s", logs)
	}
	srv := startServer(t, r)
	wantRefused(t, clientConfig(f, revoked), srv.addr, "bad certificate")
	mustGet(t, newClient(f, mustClient(t, f.clientCA, "bob", nil)), srv.url)
}

func TestClientCRLNextUpdateWithoutCRL(t *testing.T) {
	f := newFixture(t)
	if got := newReloader(t, f.cfg).ClientCRLNextUpdate(); !got.IsZero() {
		t.Errorf("ClientCRLNextUpdate without a CRL file = %v, want zero", got)
	}
}

func TestCRLReload(t *testing.T) {
	f := newFixture(t)
	bob := mustClient(t, f.clientCA, "bob", nil)
	next := time.Now().Add(time.Hour)
	withCRL(t, f, mustCRL(t, f.clientCA, next))
	results := make(chan string, 100)
	r := newReloader(t, f.cfg, tlsconfig.WithPollInterval(0), tlsconfig.WithOnReload(func(res string) { results <- res }))
	runReloader(t, r)
	srv := startServer(t, r)
	mustGet(t, newClient(f, bob), srv.url)

	// Revoked without a restart.
	writeRaw(t, f.cfg.ClientCRLFile, mustCRL(t, f.clientCA, next, bob))
	waitResult(t, results, tlsconfig.ReloadSuccess)
	wantRefused(t, clientConfig(f, bob), srv.addr, "bad certificate")

	// A broken CRL keeps the last good one: bob stays refused.
	writeRaw(t, f.cfg.ClientCRLFile, []byte("garbage"))
	waitResult(t, results, tlsconfig.ReloadFailure)
	wantRefused(t, clientConfig(f, bob), srv.addr, "bad certificate")

	// Unrevoked again.
	writeRaw(t, f.cfg.ClientCRLFile, mustCRL(t, f.clientCA, next))
	waitResult(t, results, tlsconfig.ReloadSuccess)
	mustGet(t, newClient(f, bob), srv.url)
}

func TestResumedSessionRefusedAfterCRLChange(t *testing.T) {
	f := newFixture(t)
	next := time.Now().Add(time.Hour)
	withCRL(t, f, mustCRL(t, f.clientCA, next))
	r := newReloader(t, f.cfg)
	srv := startServer(t, r)
	cache := tls.NewLRUClientSessionCache(8)
	withCache := func(c *tls.Config) { c.ClientSessionCache = cache }
	bob := mustClient(t, f.clientCA, "bob", nil)
	c := newClient(f, bob, withCache)

	if mustGet(t, c, srv.url).tls.DidResume {
		t.Fatal("first connection resumed a session")
	}
	if !mustGet(t, c, srv.url).tls.DidResume {
		t.Fatal("second connection did not resume: the rest of the test would prove nothing")
	}

	writeRaw(t, f.cfg.ClientCRLFile, mustCRL(t, f.clientCA, next, bob))
	if err := r.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	wantRefused(t, clientConfig(f, bob, withCache), srv.addr, "bad certificate")
	mustGet(t, newClient(f, mustClient(t, f.clientCA, "carol", nil), withCache), srv.url)
}

// TestResumedSessionCheckedAgainstCurrentCRL shows that the CRL check does
// not depend on the ticket key rotation: with the old keys kept, sessions
// still resume, and the revoked one is refused anyway.
func TestResumedSessionCheckedAgainstCurrentCRL(t *testing.T) {
	f := newFixture(t)
	next := time.Now().Add(time.Hour)
	withCRL(t, f, mustCRL(t, f.clientCA, next))
	r := newReloader(t, f.cfg)
	srv := startServer(t, r)
	bob, carol := mustClient(t, f.clientCA, "bob", nil), mustClient(t, f.clientCA, "carol", nil)
	bobCache, carolCache := tls.NewLRUClientSessionCache(8), tls.NewLRUClientSessionCache(8)
	bobCfg := func(c *tls.Config) { c.ClientSessionCache = bobCache }
	carolCfg := func(c *tls.Config) { c.ClientSessionCache = carolCache }
	for _, c := range []*http.Client{newClient(f, bob, bobCfg), newClient(f, carol, carolCfg)} {
		mustGet(t, c, srv.url)
		if !mustGet(t, c, srv.url).tls.DidResume {
			t.Fatal("second connection did not resume")
		}
	}

	writeRaw(t, f.cfg.ClientCRLFile, mustCRL(t, f.clientCA, next, bob))
	if err := tlsconfig.ReloadKeepingTicketKeys(r); err != nil {
		t.Fatal(err)
	}
	if !mustGet(t, newClient(f, carol, carolCfg), srv.url).tls.DidResume {
		t.Fatal("carol's session did not resume with the ticket keys kept: the test would prove nothing")
	}
	wantRefused(t, clientConfig(f, bob, bobCfg), srv.addr, "bad certificate")
}
