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

// TestConnContextCarriesTheIdentity checks that the Reloader's ConnContext
// sets identity.ConnContext's state too: a handler without
// identity.Middleware finds the client's identity through the connection,
// over HTTP/2 and HTTP/1.1.
func TestConnContextCarriesTheIdentity(t *testing.T) {
	f := newFixture(t)
	r := newReloader(t, f.cfg)
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id, ok := identity.From(req.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(id)
	})
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

	bob := mustClient(t, f.clientCA, "bob", []string{"dev", "sre"})
	http1 := func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }
	for _, c := range []*http.Client{newClient(f, bob), newClient(f, bob, http1)} {
		resp := mustGet(t, c, "https://"+ln.Addr().String()+"/")
		if got := resp.identity; got.User != "bob" || !slices.Equal(got.Groups, []string{"dev", "sre"}) {
			t.Errorf("%s: handler saw %+v, want bob in dev and sre", resp.proto, got)
		}
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
