package client_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/client"
	"github.com/replicasd/replicasd/src/client/clienttest"
)

func TestConnectionErrors(t *testing.T) {
	pki := clienttest.NewPKI(t)
	srv := clienttest.NewServer(t, pki, web)
	expiry := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)

	otherCA, otherCAFile := pki.OtherCA(t, "other-ca")
	strangerCert, strangerKey := pki.ClientFiles(t, otherCA, "stranger", nil)
	expiredCert, expiredKey := pki.ClientFiles(t, pki.CA, "expired", nil,
		certs.WithValidity(expiry.Add(-48*time.Hour), expiry))
	serverUsageCert, serverUsageKey := pki.ClientFiles(t, pki.CA, "server-usage", nil,
		certs.WithExtKeyUsage(x509.ExtKeyUsageServerAuth))
	selfSigned, err := certs.NewSelfSignedClient("self")
	if err != nil {
		t.Fatal(err)
	}
	selfCert, selfKey := pki.WritePair(t, "self", selfSigned)

	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	closedAddr := closedPort(t)

	// A handler that answers only once the test ends: the client's timeout
	// must fire first.
	release := make(chan struct{})
	slow := clienttest.NewServer(t, pki, web)
	slow.SetHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(func() { close(release) })

	files := func(server, cert, key, ca string) client.Config {
		return client.Config{Server: server, CertFile: cert, KeyFile: key, CAFile: ca}
	}
	tests := []struct {
		name         string
		cfg          client.Config
		want         client.Kind
		wantNotAfter time.Time
	}{
		{name: "client certificate from another CA", cfg: files(srv.URL, strangerCert, strangerKey, pki.CAFile),
			want: client.KindClientCertUnknownCA},
		{name: "self-signed client certificate", cfg: files(srv.URL, selfCert, selfKey, pki.CAFile),
			want: client.KindClientCertUnknownCA},
		{name: "expired client certificate", cfg: files(srv.URL, expiredCert, expiredKey, pki.CAFile),
			want: client.KindClientCertExpired, wantNotAfter: expiry},
		{name: "certificate without clientAuth", cfg: files(srv.URL, serverUsageCert, serverUsageKey, pki.CAFile),
			want: client.KindClientCertRejected},
		{name: "no client certificate", cfg: client.Config{Server: srv.URL, TLSConfig: &tls.Config{RootCAs: pki.CA.CertPool()}},
			want: client.KindClientCertRequired},
		{name: "server certificate from an untrusted CA", cfg: files(srv.URL, pki.CertFile, pki.KeyFile, otherCAFile),
			want: client.KindServerCertUntrusted},
		{name: "server certificate for another name", cfg: client.Config{Server: srv.URL, TLSConfig: &tls.Config{
			RootCAs: pki.CA.CertPool(), ServerName: "elsewhere.example"}},
			want: client.KindServerNameMismatch},
		{name: "plain HTTP server", cfg: files(strings.Replace(plain.URL, "http://", "https://", 1), pki.CertFile, pki.KeyFile, pki.CAFile),
			want: client.KindNotHTTPS},
		{name: "nothing listening", cfg: files("https://"+closedAddr, pki.CertFile, pki.KeyFile, pki.CAFile),
			want: client.KindUnreachable},
		{name: "no answer in time", cfg: client.Config{Server: slow.URL, CertFile: pki.CertFile, KeyFile: pki.KeyFile,
			CAFile: pki.CAFile, Timeout: 50 * time.Millisecond}, want: client.KindTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer c.CloseIdleConnections()
			_, err = c.List(t.Context(), "", "")
			connErr, ok := errors.AsType[*client.ConnectionError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want *client.ConnectionError", err, err)
			}
			if connErr.Kind != tt.want {
				t.Errorf("Kind = %q, want %q (err: %v)", connErr.Kind, tt.want, err)
			}
			if !strings.HasPrefix(err.Error(), tt.want.String()+": ") {
				t.Errorf("Error() = %q, want it to start with the kind", err)
			}
			if connErr.Server != c.Server() {
				t.Errorf("Server = %q, want %q", connErr.Server, c.Server())
			}
			if !tt.wantNotAfter.IsZero() && (connErr.ClientCert == nil || !connErr.ClientCert.NotAfter.Equal(tt.wantNotAfter)) {
				t.Errorf("ClientCert = %v, want one expiring %s", connErr.ClientCert, tt.wantNotAfter)
			}
		})
	}
}

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestNew(t *testing.T) {
	pki := clienttest.NewPKI(t)
	tests := []struct {
		name       string
		cfg        client.Config
		wantServer string
		wantErr    string
	}{
		{name: "plain", cfg: client.Config{Server: "https://localhost:8443", CertFile: pki.CertFile, KeyFile: pki.KeyFile},
			wantServer: "https://localhost:8443"},
		{name: "no scheme", cfg: client.Config{Server: "localhost:8443", CertFile: pki.CertFile, KeyFile: pki.KeyFile, CAFile: pki.CAFile},
			wantServer: "https://localhost:8443"},
		{name: "api prefix and slash", cfg: client.Config{Server: "https://h.example:9/api/v1/", CertFile: pki.CertFile, KeyFile: pki.KeyFile},
			wantServer: "https://h.example:9"},
		{name: "empty server", cfg: client.Config{CertFile: pki.CertFile, KeyFile: pki.KeyFile},
			wantErr: "no server URL given"},
		{name: "http", cfg: client.Config{Server: "http://localhost:8443", CertFile: pki.CertFile, KeyFile: pki.KeyFile},
			wantErr: `invalid server URL "http://localhost:8443": the scheme must be https (the API only speaks mutual TLS)`},
		{name: "other path", cfg: client.Config{Server: "https://localhost:8443/foo", CertFile: pki.CertFile, KeyFile: pki.KeyFile},
			wantErr: `invalid server URL "https://localhost:8443/foo": unexpected path "/foo"; give https://HOST:PORT`},
		{name: "no certificate", cfg: client.Config{Server: "https://localhost:8443"},
			wantErr: "no client certificate file given\nno client key file given"},
		{name: "missing certificate file", cfg: client.Config{Server: "https://localhost:8443", CertFile: "/nonexistent.crt", KeyFile: pki.KeyFile},
			wantErr: "loading client certificate /nonexistent.crt and key " + pki.KeyFile + ": open /nonexistent.crt: no such file or directory"},
		{name: "missing CA file", cfg: client.Config{Server: "https://localhost:8443", CertFile: pki.CertFile, KeyFile: pki.KeyFile, CAFile: "/nonexistent.crt"},
			wantErr: "reading CA file: open /nonexistent.crt: no such file or directory"},
		{name: "CA file without certificates", cfg: client.Config{Server: "https://localhost:8443", CertFile: pki.CertFile, KeyFile: pki.KeyFile, CAFile: pki.KeyFile},
			wantErr: "CA file " + pki.KeyFile + " holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("New: err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if c.Server() != tt.wantServer {
				t.Errorf("Server() = %q, want %q", c.Server(), tt.wantServer)
			}
			if c.ClientCertificate() == nil || c.ClientCertificate().Subject.CommonName != clienttest.DefaultUser {
				t.Errorf("ClientCertificate() = %v, want the certificate of %s", c.ClientCertificate(), clienttest.DefaultUser)
			}
		})
	}
}
