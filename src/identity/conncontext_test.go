package identity_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/identity"
)

// TestConnContextIdentity serves several requests per connection, over
// HTTP/2 and HTTP/1.1, with the identity read through ConnContext.
func TestConnContextIdentity(t *testing.T) {
	ca := mustCA(t, "team CA")
	srv := httptest.NewUnstartedServer(identity.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := identity.From(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		key, _ := identity.Key(r.Context())
		w.Header().Set("X-Identity-Key", key)
		_ = json.NewEncoder(w).Encode(id)
	})))
	srv.Config.ConnContext = identity.ConnContext
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.CertPool()}
	srv.StartTLS()
	defer srv.Close()

	bob := mustClient(t, ca, "bob", []string{"dev", "sre"})
	for _, tt := range []struct {
		name  string
		http2 bool
		proto string
	}{
		{name: "HTTP/2", http2: true, proto: "HTTP/2.0"},
		{name: "HTTP/1.1", proto: "HTTP/1.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := srv.Client().Transport.(*http.Transport).Clone()
			tr.TLSClientConfig.Certificates = []tls.Certificate{bob.TLSCertificate()}
			tr.ForceAttemptHTTP2 = tt.http2
			if !tt.http2 {
				tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
			}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: time.Minute}
			for i := range 3 {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Fatal(err)
				}
				var got identity.Identity
				err = json.NewDecoder(resp.Body).Decode(&got)
				_ = resp.Body.Close()
				if err != nil || resp.Proto != tt.proto {
					t.Fatalf("request %d: %s, decoding: %v; want %s", i, resp.Proto, err, tt.proto)
				}
				if got.User != "bob" || !slices.Equal(got.Groups, []string{"dev", "sre"}) || got.Serial != bob.Cert.SerialNumber.Text(16) {
					t.Errorf("request %d: handler saw %+v, want bob in dev and sre", i, got)
				}
				if key := resp.Header.Get("X-Identity-Key"); key != "CN=bob,O=dev,O=sre" {
					t.Errorf("request %d: Key = %q, want CN=bob,O=dev,O=sre", i, key)
				}
			}
		})
	}
}

func TestConnContextLeavesOtherConnectionsAlone(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	ctx := context.Background()
	if got := identity.ConnContext(ctx, server); got != ctx {
		t.Error("ConnContext changed the context of a plain connection")
	}
}

// TestConnContextBeforeHandshake checks that an identity asked for before
// the handshake is not remembered as missing.
func TestConnContextBeforeHandshake(t *testing.T) {
	ca := mustCA(t, "team CA")
	server, err := ca.IssueServer([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	clientSide, serverSide := net.Pipe()
	defer clientSide.Close()
	defer serverSide.Close()
	serverConn := tls.Server(serverSide, &tls.Config{
		Certificates: []tls.Certificate{server.TLSCertificate()},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.CertPool(),
	})
	ctx := identity.ConnContext(context.Background(), serverConn)

	if _, ok := identity.From(ctx); ok {
		t.Fatal("From found an identity before the handshake")
	}
	alice := mustClient(t, ca, "alice", []string{"ops"})
	clientConn := tls.Client(clientSide, &tls.Config{
		Certificates: []tls.Certificate{alice.TLSCertificate()},
		RootCAs:      ca.CertPool(),
		ServerName:   "localhost",
	})
	errs := make(chan error, 1)
	go func() { errs <- clientConn.Handshake() }()
	if err := serverConn.Handshake(); err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	id, ok := identity.From(ctx)
	if !ok || id.User != "alice" || !slices.Equal(id.Groups, []string{"ops"}) {
		t.Errorf("From after the handshake = %+v, %v; want alice in ops", id, ok)
	}
}
