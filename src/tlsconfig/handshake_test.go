package tlsconfig_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/identity"
)

func TestHandshakeRefusesBadClients(t *testing.T) {
	f := newFixture(t)
	srv := startServer(t, newReloader(t, f.cfg))
	now := time.Now()
	ca := f.clientCA
	chainVia := func(intermediate, leaf *certs.Pair) func(*tls.Config) {
		return func(c *tls.Config) {
			chain := &tls.Certificate{
				Certificate: [][]byte{leaf.Cert.Raw, intermediate.Cert.Raw},
				PrivateKey:  leaf.Key,
			}
			c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return chain, nil }
		}
	}
	notCA := mustClient(t, ca, "not-a-ca", nil)
	selfSigned, err := certs.NewSelfSignedClient("mallory")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		cert  *certs.Pair
		mods  []func(*tls.Config)
		alert string
	}{
		{name: "no certificate", alert: "certificate required"},
		{name: "issued by another CA", cert: mustClient(t, mustCA(t, "other CA"), "bob", nil), alert: "unknown certificate authority"},
		{name: "self-signed", cert: selfSigned, alert: "unknown certificate authority"},
		{name: "the server's own CA", cert: mustClient(t, f.serverCA, "bob", nil), alert: "unknown certificate authority"},
		{name: "expired", cert: mustClient(t, ca, "bob", nil, certs.WithValidity(now.Add(-48*time.Hour), now.Add(-time.Hour))), alert: "expired certificate"},
		{name: "not yet valid", cert: mustClient(t, ca, "bob", nil, certs.WithValidity(now.Add(time.Hour), now.Add(48*time.Hour))), alert: "expired certificate"},
		{name: "serverAuth only", cert: mustClient(t, ca, "bob", nil, certs.WithExtKeyUsage(x509.ExtKeyUsageServerAuth)), alert: "bad certificate"},
		{name: "no extended key usage", cert: mustClient(t, ca, "bob", nil, certs.WithExtKeyUsage()), alert: "bad certificate"},
		{name: "anyExtendedKeyUsage only", cert: mustClient(t, ca, "bob", nil, certs.WithExtKeyUsage(x509.ExtKeyUsageAny)), alert: "bad certificate"},
		{name: "chain through a non-CA certificate", mods: []func(*tls.Config){chainVia(notCA, mustClient(t, notCA, "bob", nil))}, alert: "unknown certificate authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantRefused(t, clientConfig(f, tt.cert, tt.mods...), srv.addr, tt.alert)
		})
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("handler ran %d times for refused clients", n)
	}
}

func TestHandshakeAcceptsValidClients(t *testing.T) {
	f := newFixture(t)
	srv := startServer(t, newReloader(t, f.cfg))
	tests := []struct {
		name   string
		cert   *certs.Pair
		groups []string
	}{
		{name: "clientAuth", cert: mustClient(t, f.clientCA, "bob", []string{"dev", "sre"}), groups: []string{"dev", "sre"}},
		{name: "clientAuth and serverAuth", cert: mustClient(t, f.clientCA, "carol", nil,
			certs.WithExtKeyUsage(x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)), groups: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := mustGet(t, newClient(f, tt.cert), srv.url)
			want := identity.Identity{
				User:   tt.cert.Cert.Subject.CommonName,
				Groups: tt.groups,
				Serial: tt.cert.Cert.SerialNumber.Text(16),
				Issuer: "CN=client CA",
			}
			if got := resp.identity; got.User != want.User || !slices.Equal(got.Groups, want.Groups) ||
				got.Serial != want.Serial || got.Issuer != want.Issuer {
				t.Errorf("handler saw %+v, want %+v", got, want)
			}
			if resp.tls.Version != tls.VersionTLS13 {
				t.Errorf("TLS version %s, want TLS 1.3", tls.VersionName(resp.tls.Version))
			}
			if resp.proto != "HTTP/2.0" || resp.tls.NegotiatedProtocol != "h2" {
				t.Errorf("protocol %s (ALPN %q), want HTTP/2.0 over h2", resp.proto, resp.tls.NegotiatedProtocol)
			}
			if !resp.tls.PeerCertificates[0].Equal(f.server.Cert) {
				t.Error("server presented another certificate than the one in CertFile")
			}
		})
	}
}

func TestHTTP1Client(t *testing.T) {
	f := newFixture(t)
	srv := startServer(t, newReloader(t, f.cfg))
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig: clientConfig(f, mustClient(t, f.clientCA, "bob", nil)),
		// A non-nil empty map turns HTTP/2 off.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}}
	resp := mustGet(t, c, srv.url)
	if resp.proto != "HTTP/1.1" {
		t.Errorf("protocol %s, want HTTP/1.1", resp.proto)
	}
}

func TestMinVersion(t *testing.T) {
	allowed := []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
	tls12 := func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }
	tests := []struct {
		name        string
		minVersion  uint16
		mods        []func(*tls.Config)
		wantAlert   string // empty: the request succeeds
		wantVersion uint16
	}{
		{name: "default refuses TLS 1.2", mods: []func(*tls.Config){tls12}, wantAlert: "protocol version not supported"},
		{name: "TLS 1.3 explicitly refuses TLS 1.2", minVersion: tls.VersionTLS13, mods: []func(*tls.Config){tls12}, wantAlert: "protocol version not supported"},
		{name: "default accepts TLS 1.3", wantVersion: tls.VersionTLS13},
		{name: "TLS 1.2 allowed accepts TLS 1.2", minVersion: tls.VersionTLS12, mods: []func(*tls.Config){tls12}, wantVersion: tls.VersionTLS12},
		{name: "TLS 1.2 allowed prefers TLS 1.3", minVersion: tls.VersionTLS12, wantVersion: tls.VersionTLS13},
		{name: "TLS 1.2 allowed refuses CBC suites", minVersion: tls.VersionTLS12, mods: []func(*tls.Config){tls12, func(c *tls.Config) {
			c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
		}}, wantAlert: "handshake failure"},
		{name: "TLS 1.2 allowed still requires a certificate", minVersion: tls.VersionTLS12, mods: []func(*tls.Config){tls12, func(c *tls.Config) {
			c.GetClientCertificate = nil
		}}, wantAlert: "handshake failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.MinVersion = tt.minVersion
			srv := startServer(t, newReloader(t, f.cfg))
			client := mustClient(t, f.clientCA, "bob", nil)
			if tt.wantAlert != "" {
				wantRefused(t, clientConfig(f, client, tt.mods...), srv.addr, tt.wantAlert)
				return
			}
			resp := mustGet(t, newClient(f, client, tt.mods...), srv.url)
			if resp.tls.Version != tt.wantVersion {
				t.Errorf("version %s, want %s", tls.VersionName(resp.tls.Version), tls.VersionName(tt.wantVersion))
			}
			if resp.tls.Version == tls.VersionTLS12 && !slices.Contains(allowed, resp.tls.CipherSuite) {
				t.Errorf("negotiated %s, not an ECDHE AEAD suite", tls.CipherSuiteName(resp.tls.CipherSuite))
			}
		})
	}
}
