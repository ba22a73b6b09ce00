package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestInvalidConfigurationListsEveryProblem(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"--tls-min-version=VersionTLS10", "--max-replicas=-3", "--log-format=xml"}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit code = %d, want 2; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"invalid configuration", "--tls-cert-file is required", "--client-ca-file is required",
		"--tls-min-version", "--max-replicas", "--log-format"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr.String())
		}
	}
}

func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code = %d, stderr: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "replicasd ") || !strings.Contains(stdout.String(), "go1.") {
		t.Errorf("--version printed %q", stdout.String())
	}
}

func TestUnknownFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--no-such-flag"}, &stdout, &stderr); code != 2 {
		t.Fatalf("exit code = %d, want 2", code)
	}
}

func TestCertsSubcommand(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"certs", "--out", dir, "--client", "bob:dev"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code = %d, stderr: %s", code, stderr.String())
	}
	for _, f := range []string{"ca.crt", "server.crt", "server.key", "bob.crt", "bob.key"} {
		if !strings.Contains(stdout.String(), f) {
			t.Errorf("certs output does not mention %s:\n%s", f, stdout.String())
		}
	}
	// The files exist, each key matches its certificate, and each leaf
	// verifies against ca.crt for its own use only.
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("ca.crt holds no PEM certificate:\n%s", caPEM)
	}
	for _, leaf := range []struct {
		name      string
		usage     x509.ExtKeyUsage
		wrong     x509.ExtKeyUsage
		wantCN    string
		wantOrgs  []string
		dnsOrIPOK bool
	}{
		{name: "server", usage: x509.ExtKeyUsageServerAuth, wrong: x509.ExtKeyUsageClientAuth, dnsOrIPOK: true},
		{name: "bob", usage: x509.ExtKeyUsageClientAuth, wrong: x509.ExtKeyUsageServerAuth, wantCN: "bob", wantOrgs: []string{"dev"}},
	} {
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, leaf.name+".crt"), filepath.Join(dir, leaf.name+".key"))
		if err != nil {
			t.Fatalf("%s.crt and %s.key: %v", leaf.name, leaf.name, err)
		}
		cert, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatalf("%s.crt: %v", leaf.name, err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{leaf.usage}}); err != nil {
			t.Errorf("%s.crt does not verify against ca.crt for %v: %v", leaf.name, leaf.usage, err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{leaf.wrong}}); err == nil {
			t.Errorf("%s.crt also verifies for %v, want its own usage only", leaf.name, leaf.wrong)
		}
		if leaf.dnsOrIPOK {
			if err := cert.VerifyHostname("localhost"); err != nil {
				t.Errorf("server.crt: %v", err)
			}
		}
		if leaf.wantCN != "" && (cert.Subject.CommonName != leaf.wantCN || !slices.Equal(cert.Subject.Organization, leaf.wantOrgs)) {
			t.Errorf("%s.crt subject = %v, want CN=%s O=%v", leaf.name, cert.Subject, leaf.wantCN, leaf.wantOrgs)
		}
	}
}
