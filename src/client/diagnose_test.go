package client_test

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/replicasd/replicasd/src/client"
	"github.com/replicasd/replicasd/src/client/clienttest"
)

// closingServer hands its first connection to first, which closes it
// without an answer, as a server does when it refuses a client certificate
// and the alert is lost (TLS 1.3: the refusal comes after the client sent
// its request, and the reset that follows can swallow it). Later
// connections get a TLS handshake with cfg and are then closed.
func closingServer(t *testing.T, cfg *tls.Config, first func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		closeFirst := first
		for first := true; ; first = false {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if first {
				wg.Go(func() { defer conn.Close(); closeFirst(conn) })
				continue
			}
			wg.Go(func() {
				defer conn.Close()
				_ = tls.Server(conn, cfg).Handshake() // a refused certificate: the alert is sent here
			})
		}
	})
	return "https://" + ln.Addr().String()
}

// TestClosedConnectionIsDiagnosed: a connection closed without an answer
// is explained by the alert a second connection gets, and stays "closed"
// when there is none.
func TestClosedConnectionIsDiagnosed(t *testing.T) {
	pki := clienttest.NewPKI(t)
	otherCA, _ := pki.OtherCA(t, "other-ca")
	serverConfig := func(cfg *tls.Config) *tls.Config {
		cfg.MinVersion = tls.VersionTLS13
		cfg.Certificates = []tls.Certificate{pki.Server.TLSCertificate()}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		return cfg
	}
	// Closing before any TLS: the client sees EOF in its handshake.
	beforeTLS := func(net.Conn) {}
	// Closing after an HTTP/2 handshake: net/http reports an unexpected
	// EOF or an HTTP/2 connection that "could not be established",
	// depending on timing (TestClassifyClosed has both).
	afterHTTP2Handshake := func(conn net.Conn) {
		cfg := serverConfig(&tls.Config{NextProtos: []string{"h2"}})
		cfg.ClientAuth = tls.RequestClientCert // any certificate: only the close matters
		_ = tls.Server(conn, cfg).Handshake()
	}
	tests := []struct {
		name   string
		first  func(net.Conn)
		server *tls.Config
		want   client.Kind
	}{
		{name: "certificate from another CA", first: beforeTLS, server: serverConfig(&tls.Config{ClientCAs: otherCA.CertPool()}),
			want: client.KindClientCertUnknownCA},
		{name: "certificate from another CA, HTTP/2", first: afterHTTP2Handshake, server: serverConfig(&tls.Config{ClientCAs: otherCA.CertPool()}),
			want: client.KindClientCertUnknownCA},
		{name: "certificate accepted: nothing to explain", first: beforeTLS, server: serverConfig(&tls.Config{ClientCAs: pki.CA.CertPool()}),
			want: client.KindClosed},
		{name: "certificate accepted, HTTP/2: nothing to explain", first: afterHTTP2Handshake, server: serverConfig(&tls.Config{ClientCAs: pki.CA.CertPool()}),
			want: client.KindClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(client.Config{Server: closingServer(t, tt.server, tt.first),
				CertFile: pki.CertFile, KeyFile: pki.KeyFile, CAFile: pki.CAFile})
			if err != nil {
				t.Fatal(err)
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
		})
	}
}
