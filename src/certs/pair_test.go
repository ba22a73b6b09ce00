package certs_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/replicasd/replicasd/src/certs"
)

func TestParse(t *testing.T) {
	ca := mustCA(t)
	other := mustCA(t)
	ecDER, err := x509.MarshalECPrivateKey(ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	sec1PEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})
	tests := []struct {
		name    string
		cert    []byte
		key     []byte
		wantErr string
	}{
		{name: "PKCS #8 key", cert: ca.CertPEM, key: ca.KeyPEM},
		{name: "SEC 1 key", cert: ca.CertPEM, key: sec1PEM},
		{name: "key of another certificate", cert: ca.CertPEM, key: other.KeyPEM, wantErr: "does not match"},
		{name: "no certificate", cert: ca.KeyPEM, key: ca.KeyPEM, wantErr: "no PEM CERTIFICATE block"},
		{name: "garbage certificate", cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}), key: ca.KeyPEM, wantErr: "parsing certificate"},
		{name: "no key", cert: ca.CertPEM, key: []byte("nothing"), wantErr: "no PEM private key block"},
		{name: "wrong key type", cert: ca.CertPEM, key: ca.CertPEM, wantErr: `unsupported private key PEM block "CERTIFICATE"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := certs.Parse(tt.cert, tt.key)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse: %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !p.Cert.Equal(ca.Cert) || !p.Key.Equal(ca.Key) {
				t.Error("parsed pair differs from the original")
			}
		})
	}
}

func TestWriteFilesAndLoad(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t)
	client, err := ca.IssueClient("bob", []string{"dev"})
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "bob.crt"), filepath.Join(dir, "bob.key")
	// Writing twice proves existing files are replaced.
	for _, p := range []*certs.Pair{ca, client} {
		if err := p.WriteFiles(certPath, keyPath); err != nil {
			t.Fatalf("WriteFiles: %v", err)
		}
	}
	for path, want := range map[string]os.FileMode{certPath: 0o644, keyPath: 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
	loaded, err := certs.Load(certPath, keyPath)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !loaded.Cert.Equal(client.Cert) || !bytes.Equal(loaded.KeyPEM, client.KeyPEM) {
		t.Error("loaded pair differs from the written one")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("directory holds %d entries, want 2 (no temporary files left)", len(entries))
	}
	if _, err := certs.Load(filepath.Join(dir, "missing.crt"), keyPath); err == nil {
		t.Error("Load of a missing file: want an error")
	}
}

func TestBundle(t *testing.T) {
	a, b := mustCA(t), mustCA(t)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certs.Bundle(a, b)) {
		t.Fatal("bundle holds no certificates")
	}
	for _, ca := range []*certs.Pair{a, b} {
		client, err := ca.IssueClient("bob", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("client of %s does not verify against the bundle: %v", ca.Cert.Subject, err)
		}
	}
}
