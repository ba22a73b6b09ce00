package certs_test

import (
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
)

func mustCA(t *testing.T, opts ...certs.Option) *certs.Pair {
	t.Helper()
	ca, err := certs.NewCA("test CA", opts...)
	if err != nil {
		t.Fatalf("NewCA: %v", err)
	}
	return ca
}

func TestNewCA(t *testing.T) {
	ca := mustCA(t)
	c := ca.Cert
	if !c.IsCA || !c.BasicConstraintsValid {
		t.Errorf("IsCA=%v BasicConstraintsValid=%v, want both true", c.IsCA, c.BasicConstraintsValid)
	}
	if c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("KeyUsage %b lacks CertSign", c.KeyUsage)
	}
	if c.Subject.CommonName != "test CA" || c.Issuer.CommonName != "test CA" {
		t.Errorf("subject %q issuer %q, want both %q", c.Subject, c.Issuer, "test CA")
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("CA is not self-signed: %v", err)
	}
	if ca.Key.Curve != elliptic.P256() {
		t.Errorf("curve %v, want P-256", ca.Key.Curve.Params().Name)
	}
	checkValidity(t, c, certs.DefaultCAValidity)
	if _, err := certs.NewCA(""); err == nil {
		t.Error("NewCA with an empty name: want an error")
	}
}

// checkValidity checks a default validity period: valid now, for about want.
func checkValidity(t *testing.T, c *x509.Certificate, want time.Duration) {
	t.Helper()
	now := time.Now()
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		t.Errorf("not valid now: %v to %v", c.NotBefore, c.NotAfter)
	}
	if left := time.Until(c.NotAfter); left > want || left < want-time.Hour {
		t.Errorf("expires in %v, want about %v", left, want)
	}
}

func TestIssueServer(t *testing.T) {
	ca := mustCA(t)
	tests := []struct {
		name      string
		names     []string
		wantCN    string
		wantDNS   []string
		wantIPs   []string
		verifyFor []string
	}{
		{
			name:      "defaults",
			wantCN:    "localhost",
			wantDNS:   []string{"localhost"},
			wantIPs:   []string{"127.0.0.1", "::1"},
			verifyFor: []string{"localhost", "127.0.0.1", "::1"},
		},
		{
			name:      "given names",
			names:     []string{"replicasd.ops.svc", "10.0.0.7", "*.example.com"},
			wantCN:    "replicasd.ops.svc",
			wantDNS:   []string{"replicasd.ops.svc", "*.example.com"},
			wantIPs:   []string{"10.0.0.7"},
			verifyFor: []string{"replicasd.ops.svc", "10.0.0.7", "api.example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, err := ca.IssueServer(tt.names)
			if err != nil {
				t.Fatalf("IssueServer: %v", err)
			}
			c := server.Cert
			if c.Subject.CommonName != tt.wantCN {
				t.Errorf("CN %q, want %q", c.Subject.CommonName, tt.wantCN)
			}
			if !slices.Equal(c.DNSNames, tt.wantDNS) {
				t.Errorf("DNSNames %q, want %q", c.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range c.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("IPAddresses %q, want %q", ips, tt.wantIPs)
			}
			if c.IsCA {
				t.Error("server certificate is a CA")
			}
			if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
				t.Errorf("ExtKeyUsage %v, want serverAuth only", c.ExtKeyUsage)
			}
			checkValidity(t, c, certs.DefaultLeafValidity)
			for _, name := range tt.verifyFor {
				_, err := c.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.CertPool()})
				if err != nil {
					t.Errorf("verify for %q: %v", name, err)
				}
			}
			if _, err := c.Verify(x509.VerifyOptions{DNSName: "other.invalid", Roots: ca.CertPool()}); err == nil {
				t.Error("verify for other.invalid: want an error")
			}
		})
	}
	if _, err := ca.IssueServer([]string{"localhost", ""}); err == nil {
		t.Error("IssueServer with an empty name: want an error")
	}
}

func TestIssueClient(t *testing.T) {
	ca, other := mustCA(t), mustCA(t)
	client, err := ca.IssueClient("bob", []string{"sre", "system:masters"})
	if err != nil {
		t.Fatalf("IssueClient: %v", err)
	}
	c := client.Cert
	if c.Subject.CommonName != "bob" || !slices.Equal(c.Subject.Organization, []string{"sre", "system:masters"}) {
		t.Errorf("subject %q, want CN=bob O=sre,system:masters", c.Subject)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("ExtKeyUsage %v, want clientAuth only", c.ExtKeyUsage)
	}
	if c.Issuer.CommonName != "test CA" {
		t.Errorf("issuer %q, want test CA", c.Issuer)
	}
	checkValidity(t, c, certs.DefaultLeafValidity)
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if _, err := c.Verify(x509.VerifyOptions{Roots: ca.CertPool(), KeyUsages: clientAuth}); err != nil {
		t.Errorf("verify against its CA: %v", err)
	}
	var unknown x509.UnknownAuthorityError
	if _, err := c.Verify(x509.VerifyOptions{Roots: other.CertPool(), KeyUsages: clientAuth}); !errors.As(err, &unknown) {
		t.Errorf("verify against another CA: got %v, want UnknownAuthorityError", err)
	}
	if _, err := ca.IssueClient("", nil); err == nil {
		t.Error("IssueClient with an empty name: want an error")
	}
}

func TestOptions(t *testing.T) {
	ca := mustCA(t)
	past := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	tests := []struct {
		name          string
		opts          []certs.Option
		wantNotBefore time.Time
		wantNotAfter  time.Time
		wantEKU       []x509.ExtKeyUsage
		wantErr       x509.InvalidReason
		checkValidity bool
	}{
		{
			name:          "expired",
			opts:          []certs.Option{certs.WithValidity(past, past.Add(time.Hour))},
			wantNotBefore: past,
			wantNotAfter:  past.Add(time.Hour),
			wantEKU:       []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			wantErr:       x509.Expired,
			checkValidity: true,
		},
		{
			name:    "server auth only",
			opts:    []certs.Option{certs.WithExtKeyUsage(x509.ExtKeyUsageServerAuth)},
			wantEKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			wantErr: x509.IncompatibleUsage,
		},
		{
			name:    "no extended key usage",
			opts:    []certs.Option{certs.WithExtKeyUsage()},
			wantEKU: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := ca.IssueClient("bob", nil, tt.opts...)
			if err != nil {
				t.Fatalf("IssueClient: %v", err)
			}
			c := client.Cert
			if tt.checkValidity && (!c.NotBefore.Equal(tt.wantNotBefore) || !c.NotAfter.Equal(tt.wantNotAfter)) {
				t.Errorf("validity %v to %v, want %v to %v", c.NotBefore, c.NotAfter, tt.wantNotBefore, tt.wantNotAfter)
			}
			if !slices.Equal(c.ExtKeyUsage, tt.wantEKU) {
				t.Errorf("ExtKeyUsage %v, want %v", c.ExtKeyUsage, tt.wantEKU)
			}
			_, err = c.Verify(x509.VerifyOptions{Roots: ca.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			var invalid x509.CertificateInvalidError
			switch {
			case tt.wantErr == 0 && err != nil:
				t.Errorf("verify: %v, want success", err)
			case tt.wantErr != 0 && (!errors.As(err, &invalid) || invalid.Reason != tt.wantErr):
				t.Errorf("verify: %v, want reason %v", err, tt.wantErr)
			}
		})
	}
}

func TestDefaultLeafValidityCappedAtCA(t *testing.T) {
	caExpiry := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	ca := mustCA(t, certs.WithValidity(time.Now().Add(-time.Hour), caExpiry))
	client, err := ca.IssueClient("bob", nil)
	if err != nil {
		t.Fatalf("IssueClient: %v", err)
	}
	if !client.Cert.NotAfter.Equal(caExpiry) {
		t.Errorf("NotAfter %v, want the CA's %v", client.Cert.NotAfter, caExpiry)
	}
}

func TestSerialNumbers(t *testing.T) {
	ca := mustCA(t)
	seen := map[string]bool{ca.Cert.SerialNumber.String(): true}
	for range 20 {
		client, err := ca.IssueClient("bob", nil)
		if err != nil {
			t.Fatalf("IssueClient: %v", err)
		}
		s := client.Cert.SerialNumber
		if s.Sign() <= 0 || s.BitLen() > 128 {
			t.Errorf("serial %x: want positive and at most 128 bits", s)
		}
		if seen[s.String()] {
			t.Errorf("serial %x issued twice", s)
		}
		seen[s.String()] = true
	}
}

func TestNewSelfSignedClient(t *testing.T) {
	p, err := certs.NewSelfSignedClient("mallory")
	if err != nil {
		t.Fatalf("NewSelfSignedClient: %v", err)
	}
	c := p.Cert
	if c.IsCA {
		t.Error("self-signed client is a CA")
	}
	if c.Issuer.String() != c.Subject.String() {
		t.Errorf("issuer %q, want the subject %q", c.Issuer, c.Subject)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Errorf("not signed by its own key: %v", err)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("ExtKeyUsage %v, want clientAuth", c.ExtKeyUsage)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: mustCA(t).CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("self-signed client verified against a CA")
	}
}

func TestIssuedByLeafFailsVerification(t *testing.T) {
	ca := mustCA(t)
	leaf, err := ca.IssueClient("leaf", nil)
	if err != nil {
		t.Fatalf("IssueClient: %v", err)
	}
	child, err := leaf.IssueClient("child", nil)
	if err != nil {
		t.Fatalf("IssueClient from a leaf: %v", err)
	}
	inter := x509.NewCertPool()
	inter.AddCert(leaf.Cert)
	_, err = child.Cert.Verify(x509.VerifyOptions{Roots: ca.CertPool(), Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err == nil {
		t.Error("certificate issued by a non-CA verified")
	}
}

func TestTLSCertificate(t *testing.T) {
	ca := mustCA(t)
	server, err := ca.IssueServer(nil)
	if err != nil {
		t.Fatalf("IssueServer: %v", err)
	}
	tc := server.TLSCertificate()
	if tc.Leaf != server.Cert || tc.PrivateKey != server.Key || len(tc.Certificate) != 1 || !slices.Equal(tc.Certificate[0], server.Cert.Raw) {
		t.Errorf("TLSCertificate does not carry the pair: %+v", tc)
	}
	if err := tc.Leaf.VerifyHostname(net.IPv6loopback.String()); err != nil {
		t.Errorf("VerifyHostname(::1): %v", err)
	}
}

func TestIssueIntermediate(t *testing.T) {
	root := mustCA(t, certs.WithMaxPathLen(1))
	inter, err := root.IssueIntermediate("team CA")
	if err != nil {
		t.Fatalf("IssueIntermediate: %v", err)
	}
	if c := inter.Cert; !c.IsCA || c.KeyUsage&x509.KeyUsageCRLSign == 0 || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("intermediate: IsCA=%v KeyUsage=%b MaxPathLen=%d zero=%v, want a CA signing leaves and CRLs only",
			c.IsCA, c.KeyUsage, c.MaxPathLen, c.MaxPathLenZero)
	}
	leaf, err := inter.IssueClient("bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(root *certs.Pair) error {
		_, err := leaf.Cert.Verify(x509.VerifyOptions{
			Roots: root.CertPool(), Intermediates: inter.CertPool(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		return err
	}
	if err := verify(root); err != nil {
		t.Errorf("verify through the intermediate: %v", err)
	}
	// A default CA signs leaves only: a chain through an intermediate it
	// signed fails.
	leavesOnly := mustCA(t)
	if inter, err = leavesOnly.IssueIntermediate("team CA"); err != nil {
		t.Fatal(err)
	}
	if leaf, err = inter.IssueClient("bob", nil); err != nil {
		t.Fatal(err)
	}
	if err := verify(leavesOnly); err == nil {
		t.Error("a chain through an intermediate of a leaves-only CA verified")
	}
	if _, err := root.IssueIntermediate(""); err == nil {
		t.Error("IssueIntermediate with an empty name: want an error")
	}
}
