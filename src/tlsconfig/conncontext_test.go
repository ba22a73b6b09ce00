package tlsconfig_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"testing"

	"github.com/replicasd/replicasd/src/identity"
)

// TestConnContextIdentity serves several requests per connection, over
// HTTP/2 and HTTP/1.1, with the identity read through the Reloader's
// ConnContext, which must carry identity.ConnContext's too.
func TestConnContextIdentity(t *testing.T) {
	f := newFixture(t)
	r := newReloader(t, f.cfg)
	handler := identity.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id, ok := identity.From(req.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(id)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, TLSConfig: r.TLSConfig(), ConnContext: r.ConnContext,
		ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	url := "https://" + ln.Addr().String() + "/"

	for _, tt := range []struct {
		name  string
		http2 bool
		proto string
	}{
		{name: "HTTP/2", http2: true, proto: "HTTP/2.0"},
		{name: "HTTP/1.1", proto: "HTTP/1.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bob := mustClient(t, f.clientCA, "bob", []string{"dev", "sre"})
			tr := &http.Transport{TLSClientConfig: clientConfig(f, bob), ForceAttemptHTTP2: tt.http2}
			if !tt.http2 {
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: waitTimeout}
			for i := range 3 {
				resp := mustGet(t, c, url)
				if resp.proto != tt.proto {
					t.Fatalf("protocol %s, want %s", resp.proto, tt.proto)
				}
				if got := resp.identity; got.User != "bob" || !slices.Equal(got.Groups, []string{"dev", "sre"}) ||
					got.Serial != bob.Cert.SerialNumber.Text(16) {
					t.Errorf("request %d: handler saw %+v, want bob in dev and sre", i, got)
				}
			}
		})
	}
}

func TestConnContextLeavesOtherConnectionsAlone(t *testing.T) {
	r := newReloader(t, newFixture(t).cfg)
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	ctx := context.Background()
	if got := r.ConnContext(ctx, server); got != ctx {
		t.Error("ConnContext changed the context of a plain connection")
	}
	if _, ok := identity.From(r.ConnContext(ctx, server)); ok {
		t.Error("identity.From found an identity on a plain connection")
	}
}

// TestConnContextBeforeHandshake checks that an identity asked for before
// the handshake is not remembered as missing.
func TestConnContextBeforeHandshake(t *testing.T) {
	f := newFixture(t)
	r := newReloader(t, f.cfg)
	clientSide, serverSide := net.Pipe()
	defer clientSide.Close()
	defer serverSide.Close()
	serverConn := tls.Server(serverSide, r.TLSConfig())
	ctx := r.ConnContext(context.Background(), serverConn)

	if _, ok := identity.From(ctx); ok {
		t.Fatal("identity.From found an identity before the handshake")
	}
	alice := mustClient(t, f.clientCA, "alice", []string{"ops"})
	clientConn := tls.Client(clientSide, clientConfig(f, alice, func(c *tls.Config) { c.ServerName = "localhost" }))
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
		t.Errorf("identity.From after the handshake = %+v, %v; want alice in ops", id, ok)
	}
}
