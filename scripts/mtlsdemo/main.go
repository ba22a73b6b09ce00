// Command mtlsdemo prepares what `make mtls-demo` (scripts/mtls-demo.sh)
// needs to show replicasd refusing bad client certificates without a
// cluster: it writes, under -out,
//
//	certs/ca.crt, ca.key            the CA replicasd trusts
//	certs/server.crt, server.key    replicasd's serving certificate
//	certs/<case>.crt, <case>.key    one client certificate per case
//	certs/crl.pem                   a CRL of the CA revoking revoked.crt
//	kubeconfig                      for the fake Kubernetes API below
//
// then serves a fake Kubernetes API (src/fakeapiserver) with one Deployment
// until it is interrupted or terminated.
package main

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/fakeapiserver"
)

func main() {
	out := flag.String("out", "", "directory for the certificates and the kubeconfig (required)")
	flag.Parse()
	if *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "mtlsdemo:", err)
		os.Exit(1)
	}
}

// closers stands in for testing.T where fakeapiserver wants one.
type closers []func()

func (c *closers) Cleanup(f func()) { *c = append(*c, f) }

func run(out string) error {
	if err := writeCerts(filepath.Join(out, "certs")); err != nil {
		return err
	}
	var c closers
	defer func() {
		for i := len(c) - 1; i >= 0; i-- {
			c[i]()
		}
	}()
	replicas := int32(2)
	api := fakeapiserver.New(&c, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", Labels: map[string]string{"app": "web"}},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
	})
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: %q}}]
users: [{name: replicasd, user: {}}]
contexts: [{name: fake, context: {cluster: fake, user: replicasd}}]
current-context: fake
`, api.RESTConfig().Host)
	// Written last and renamed into place: the script waits for this file.
	tmp := filepath.Join(out, "kubeconfig.tmp")
	if err := os.WriteFile(tmp, []byte(kubeconfig), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(out, "kubeconfig")); err != nil {
		return err
	}
	fmt.Println("fake Kubernetes API at", api.RESTConfig().Host)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	return nil
}

// writeCerts writes the CA, the server's pair, one client pair per case and
// the CRL into dir.
func writeCerts(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, err := certs.NewCA("mtls-demo-ca")
	if err != nil {
		return err
	}
	other, err := certs.NewCA("another-ca")
	if err != nil {
		return err
	}
	now := time.Now()
	issue := map[string]func() (*certs.Pair, error){
		"server":   func() (*certs.Pair, error) { return ca.IssueServer(nil) },
		"good":     func() (*certs.Pair, error) { return ca.IssueClient("reviewer", []string{"sre"}) },
		"other-ca": func() (*certs.Pair, error) { return other.IssueClient("mallory", nil) },
		"expired": func() (*certs.Pair, error) {
			return ca.IssueClient("old", nil, certs.WithValidity(now.Add(-48*time.Hour), now.Add(-24*time.Hour)))
		},
		"not-yet-valid": func() (*certs.Pair, error) {
			return ca.IssueClient("early", nil, certs.WithValidity(now.Add(24*time.Hour), now.Add(48*time.Hour)))
		},
		"server-auth-only": func() (*certs.Pair, error) {
			return ca.IssueClient("server-only", nil, certs.WithExtKeyUsage(x509.ExtKeyUsageServerAuth))
		},
		"self-signed": func() (*certs.Pair, error) { return certs.NewSelfSignedClient("selfie") },
		"revoked":     func() (*certs.Pair, error) { return ca.IssueClient("revoked", []string{"sre"}) },
	}
	pairs := map[string]*certs.Pair{"ca": ca}
	for name, f := range issue {
		p, err := f()
		if err != nil {
			return fmt.Errorf("issuing %s: %w", name, err)
		}
		pairs[name] = p
	}
	for name, p := range pairs {
		if err := p.WriteFiles(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")); err != nil {
			return err
		}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: pairs["revoked"].Cert.SerialNumber, RevocationTime: now.Add(-time.Minute)}},
	}, ca.Cert, ca.Key)
	if err != nil {
		return errors.Join(errors.New("signing the CRL"), err)
	}
	return certs.WriteFile(filepath.Join(dir, "crl.pem"), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644)
}
