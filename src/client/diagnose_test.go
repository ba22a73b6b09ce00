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

// closingServer drops its first connection at once, before any TLS, as a
// server does when it refuses a client certificate and the alert is lost
// (TLS 1.3: the refusal comes after the client sent its request, and the
// reset that follows can swallow it). Later connections get a TLS
// handshake with cfg and are then closed.
func closingServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for first := true; ; first = false {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if first {
				conn.Close()
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
	serverConfig := func(clientCA *tls.Config) *tls.Config {
		clientCA.MinVersion = tls.VersionTLS13
		clientCA.Certificates = []tls.Certificate{pki.Server.TLSCertificate()}
		clientCA.ClientAuth = tls.RequireAndVerifyClientCert
		return clientCA
	}
	tests := []struct {
		name   string
		server *tls.Config
		want   client.Kind
	}{
		{name: "certificate from another CA", server: serverConfig(&tls.Config{ClientCAs: otherCA.CertPool()}),
			want: client.KindClientCertUnknownCA},
		{name: "certificate accepted: nothing to explain", server: serverConfig(&tls.Config{ClientCAs: pki.CA.CertPool()}),
			want: client.KindClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(client.Config{Server: closingServer(t, tt.server),
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
