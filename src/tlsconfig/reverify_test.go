package tlsconfig_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/identity"
	"github.com/replicasd/replicasd/src/testkit"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// clock is a time source a test moves by hand, for tlsconfig.WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// refusals records the reasons passed to the WithOnRefused hook.
type refusals struct {
	mu      sync.Mutex
	reasons []string
}

func (r *refusals) add(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reasons = append(r.reasons, reason)
}

func (r *refusals) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reasons)
}

// startReverifyServer serves "ok" over HTTP/1.1 and HTTP/2 as the app
// does: the Reloader's TLSConfig and ConnContext, identity middleware, then
// Reverify.
func startReverifyServer(t *testing.T, r *tlsconfig.Reloader) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: identity.Middleware(r.Reverify(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, "ok")
		}))),
		TLSConfig:   r.TLSConfig(),
		ConnContext: r.ConnContext,
		ErrorLog:    log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// keepAlive is a client that keeps one connection open and reuses it, over
// HTTP/2 or HTTP/1.1.
type keepAlive struct {
	c     *http.Client
	url   string
	proto string
}

func newKeepAlive(t *testing.T, f *fixture, addr string, h2 bool, mods ...func(*tls.Config)) *keepAlive {
	t.Helper()
	cfg := clientConfig(f, nil, mods...)
	cfg.NextProtos = []string{"http/1.1"}
	proto := "HTTP/1.1"
	if h2 {
		cfg.NextProtos = []string{"h2"}
		proto = "HTTP/2.0"
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: h2, MaxConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	return &keepAlive{c: &http.Client{Timeout: waitTimeout, Transport: tr}, url: "https://" + addr + "/", proto: proto}
}

// reply is one answer, read in full, and whether it came on a reused
// connection.
type reply struct {
	status int
	body   string
	header http.Header
	close  bool
	reused bool
}

func (k *keepAlive) get() (reply, error) {
	var out reply
	req, err := http.NewRequest(http.MethodGet, k.url, nil)
	if err != nil {
		return out, err
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { out.reused = info.Reused },
	}))
	resp, err := k.c.Do(req)
	if err != nil {
		return out, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return out, err
	}
	if resp.Proto != k.proto {
		return out, errors.New("answered over " + resp.Proto + ", want " + k.proto)
	}
	out.status, out.body, out.header, out.close = resp.StatusCode, string(body), resp.Header, resp.Close
	return out, nil
}

func (k *keepAlive) mustGet(t *testing.T) reply {
	t.Helper()
	rep, err := k.get()
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	return rep
}

// withChain presents leaf with the intermediate CA that issued it, as a
// client of an intermediate does.
func withChain(leaf, intermediate *certs.Pair) func(*tls.Config) {
	return func(c *tls.Config) {
		tc := leaf.TLSCertificate()
		tc.Certificate = append(tc.Certificate, intermediate.Cert.Raw)
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tc, nil }
	}
}

// reverifyCase is one way a client certificate stops verifying while its
// connection is open.
type reverifyCase struct {
	name string
	// setup writes f's files for bob (who loses trust) and carol (who
	// keeps it) and returns how each presents its certificate, and the
	// change that takes bob's trust away once both are connected.
	setup func(t *testing.T, f *fixture, clk *clock) (bob, carol func(*tls.Config), change func(t *testing.T, r *tlsconfig.Reloader))
	// reason and message are what bob's next request meets; alert is what
	// his next handshake meets.
	reason, message, alert string
}

func reload(t *testing.T, r *tlsconfig.Reloader) {
	t.Helper()
	if err := r.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
}

var reverifyCases = []reverifyCase{
	{
		name: "CA removed from the bundle",
		setup: func(t *testing.T, f *fixture, _ *clock) (func(*tls.Config), func(*tls.Config), func(*testing.T, *tlsconfig.Reloader)) {
			teamCA := mustCA(t, "team CA")
			writeRaw(t, f.cfg.ClientCAFile, certs.Bundle(f.clientCA, teamCA))
			return clientCert(mustClient(t, teamCA, "bob", nil)), clientCert(mustClient(t, f.clientCA, "carol", nil)),
				func(t *testing.T, r *tlsconfig.Reloader) {
					writeRaw(t, f.cfg.ClientCAFile, f.clientCA.CertPEM)
					reload(t, r)
				}
		},
		reason: tlsconfig.RefusedUnknownAuthority, message: "the client certificate's CA is no longer trusted",
		alert: "unknown certificate authority",
	},
	{
		name: "revoked by a CRL reload",
		setup: func(t *testing.T, f *fixture, _ *clock) (func(*tls.Config), func(*tls.Config), func(*testing.T, *tlsconfig.Reloader)) {
			next := time.Now().Add(time.Hour)
			withCRL(t, f, mustCRL(t, f.clientCA, next))
			bob := mustClient(t, f.clientCA, "bob", nil)
			return clientCert(bob), clientCert(mustClient(t, f.clientCA, "carol", nil)),
				func(t *testing.T, r *tlsconfig.Reloader) {
					writeRaw(t, f.cfg.ClientCRLFile, mustCRL(t, f.clientCA, next, bob))
					reload(t, r)
				}
		},
		reason: tlsconfig.RefusedRevoked, message: "the client certificate has been revoked",
		alert: "bad certificate",
	},
	{
		name: "revoked by the CRL of an intermediate CA outside the bundle",
		setup: func(t *testing.T, f *fixture, _ *clock) (func(*tls.Config), func(*tls.Config), func(*testing.T, *tlsconfig.Reloader)) {
			root, inter := mustIntermediate(t)
			writeRaw(t, f.cfg.ClientCAFile, root.CertPEM)
			next := time.Now().Add(time.Hour)
			withCRL(t, f, mustCRL(t, inter, next))
			bob := mustClient(t, inter, "bob", nil)
			return withChain(bob, inter), withChain(mustClient(t, inter, "carol", nil), inter),
				func(t *testing.T, r *tlsconfig.Reloader) {
					writeRaw(t, f.cfg.ClientCRLFile, mustCRL(t, inter, next, bob))
					reload(t, r)
				}
		},
		reason: tlsconfig.RefusedRevoked, message: "the client certificate has been revoked",
		alert: "bad certificate",
	},
	{
		name: "certificate expired",
		setup: func(t *testing.T, f *fixture, clk *clock) (func(*tls.Config), func(*tls.Config), func(*testing.T, *tlsconfig.Reloader)) {
			now := clk.now()
			bob := mustClient(t, f.clientCA, "bob", nil, certs.WithValidity(now.Add(-time.Hour), now.Add(time.Hour)))
			return clientCert(bob), clientCert(mustClient(t, f.clientCA, "carol", nil)),
				func(*testing.T, *tlsconfig.Reloader) { clk.advance(2 * time.Hour) }
		},
		reason: tlsconfig.RefusedExpired, message: "the client certificate has expired",
		alert: "expired certificate",
	},
}

// clientCert presents cert, for keepAlive.
func clientCert(cert *certs.Pair) func(*tls.Config) {
	return func(c *tls.Config) {
		tc := cert.TLSCertificate()
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tc, nil }
	}
}

// mustIntermediate returns a root CA and an intermediate CA it issued.
func mustIntermediate(t *testing.T) (root, intermediate *certs.Pair) {
	t.Helper()
	root = mustCA(t, "root CA", certs.WithMaxPathLen(1))
	intermediate, err := root.IssueIntermediate("team intermediate CA")
	if err != nil {
		t.Fatal(err)
	}
	return root, intermediate
}

func TestOpenConnectionsAreReverified(t *testing.T) {
	for _, tt := range reverifyCases {
		for _, h2 := range []bool{false, true} {
			name := tt.name + " over HTTP/1.1"
			if h2 {
				name = tt.name + " over HTTP/2"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t)
				clk := newClock()
				bobCert, carolCert, change := tt.setup(t, f, clk)
				refused := &refusals{}
				r := newReloader(t, f.cfg, tlsconfig.WithClock(clk.now), tlsconfig.WithOnRefused(refused.add))
				addr := startReverifyServer(t, r)
				bob, carol := newKeepAlive(t, f, addr, h2, bobCert), newKeepAlive(t, f, addr, h2, carolCert)
				for who, c := range map[string]*keepAlive{"bob": bob, "carol": carol} {
					if rep := c.mustGet(t); rep.status != http.StatusOK || rep.body != "ok" {
						t.Fatalf("%s before the change: %d %q", who, rep.status, rep.body)
					}
				}

				change(t, r)

				rep := bob.mustGet(t)
				if !rep.reused {
					t.Fatal("bob's request after the change opened a new connection: the test would prove nothing")
				}
				var body map[string]string
				if err := json.Unmarshal([]byte(rep.body), &body); err != nil || len(body) != 1 || body["error"] != tt.message {
					t.Errorf("bob on his open connection: %d %q, want 403 {\"error\": %q}", rep.status, rep.body, tt.message)
				}
				if rep.status != http.StatusForbidden || rep.header.Get("Content-Type") != "application/json" {
					t.Errorf("bob on his open connection: status %d, Content-Type %q; want 403, application/json", rep.status, rep.header.Get("Content-Type"))
				}
				if !h2 && !rep.close {
					t.Error("the HTTP/1.1 answer does not close the connection")
				}
				if got := refused.get(); !slices.Equal(got, []string{tt.reason}) {
					t.Errorf("refusals counted %q, want [%q]", got, tt.reason)
				}
				// carol's certificate still verifies: her open connection
				// keeps working.
				if rep := carol.mustGet(t); rep.status != http.StatusOK || !rep.reused {
					t.Errorf("carol after the change: %d (reused connection %v), want 200 on her open connection", rep.status, rep.reused)
				}
				// bob's connection is closed: his next attempt is a new
				// handshake, which is refused (the HTTP/2 client does not
				// tell which alert it got; wantRefused shows it). Over
				// HTTP/2 a request sent before his client read the GOAWAY
				// may still meet the 403.
				testkit.Eventually(t, waitTimeout, "bob's next attempt meets a refused handshake", func() error {
					rep, err := bob.get()
					switch {
					case err != nil && (h2 || strings.Contains(err.Error(), "remote error: tls: "+tt.alert)):
						return nil
					case err != nil:
						t.Fatalf("bob's next attempt: %v, want the handshake refused with %q", err, tt.alert)
					case rep.status != http.StatusForbidden || !rep.reused:
						t.Fatalf("bob's next attempt: %d (reused %v), want the handshake refused", rep.status, rep.reused)
					}
					return errors.New("answered 403 on the old connection again")
				})
				wantRefused(t, clientConfig(f, nil, bobCert), addr, tt.alert)
			})
		}
	}
}

func TestReverifyVerifiesOncePerConnectionAfterAReload(t *testing.T) {
	f := newFixture(t)
	clk := newClock()
	r := newReloader(t, f.cfg, tlsconfig.WithClock(clk.now))
	addr := startReverifyServer(t, r)
	bob := newKeepAlive(t, f, addr, true, clientCert(mustClient(t, f.clientCA, "bob", nil)))
	for range 5 {
		if rep := bob.mustGet(t); rep.status != http.StatusOK {
			t.Fatalf("GET = %d", rep.status)
		}
	}
	if n := tlsconfig.Verifications(r); n != 0 {
		t.Fatalf("%d chain verifications without a reload, want 0: the handshake's verdict stands", n)
	}
	// A reload with the same CA bundle: a new generation, one check per
	// connection, then the cached verdict again.
	writeRaw(t, f.cfg.ClientCAFile, certs.Bundle(f.clientCA, mustCA(t, "another CA")))
	reload(t, r)
	for range 5 {
		if rep := bob.mustGet(t); rep.status != http.StatusOK || !rep.reused {
			t.Fatalf("GET after the reload = %d (reused %v)", rep.status, rep.reused)
		}
	}
	if n := tlsconfig.Verifications(r); n != 1 {
		t.Fatalf("%d chain verifications after a reload, want 1", n)
	}
}

func TestGOAWAYAfterARefusalOverHTTP2(t *testing.T) {
	f := newFixture(t)
	next := time.Now().Add(time.Hour)
	withCRL(t, f, mustCRL(t, f.clientCA, next))
	r := newReloader(t, f.cfg)
	addr := startReverifyServer(t, r)
	bob := mustClient(t, f.clientCA, "bob", nil)
	h2 := dialH2(t, f, addr, clientCert(bob))
	if status := h2.get(t, 1); status != "200" {
		t.Fatalf("first request: %s", status)
	}
	writeRaw(t, f.cfg.ClientCRLFile, mustCRL(t, f.clientCA, next, bob))
	reload(t, r)
	if status := h2.get(t, 3); status != "403" {
		t.Fatalf("request after the revocation: %s, want 403", status)
	}
	h2.wantGoAway(t)
}

func TestIntermediateCRL(t *testing.T) {
	f := newFixture(t)
	root, inter := mustIntermediate(t)
	writeRaw(t, f.cfg.ClientCAFile, root.CertPEM)
	bob, carol := mustClient(t, inter, "bob", nil), mustClient(t, inter, "carol", nil)
	// An intermediate of another root, with the same name but its own key:
	// its CRL must not revoke what the trusted intermediate issued.
	_, impostor := mustIntermediate(t)
	next := time.Now().Add(time.Hour)
	withCRL(t, f, append(mustCRL(t, inter, next, bob), mustCRL(t, impostor, next, carol)...))
	r, err := tlsconfig.New(f.cfg, testkit.TestLogger(t))
	if err != nil {
		t.Fatalf("New with the CRL of an intermediate CA that is not in the bundle: %v", err)
	}
	srv := startServer(t, r)
	wantRefused(t, clientConfig(f, nil, withChain(bob, inter)), srv.addr, "bad certificate")
	if resp := mustGet(t, newClient(f, nil, withChain(carol, inter)), srv.url); resp.identity.User != "carol" {
		t.Errorf("handler saw %q, want carol", resp.identity.User)
	}
	// The intermediate's CRL changes nothing for certificates of other CAs.
	mustGet(t, newClient(f, nil, clientCert(mustClient(t, root, "dave", nil))), srv.url)
}

// BenchmarkReverify measures what Reverify adds to a request on an open
// connection between reloads, with Run keeping the clock as in the server:
// the common path.
func BenchmarkReverify(b *testing.B) {
	f := newFixture(b)
	r, err := tlsconfig.New(f.cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	<-tlsconfig.Watching(r)
	clientSide, serverSide := net.Pipe()
	defer clientSide.Close()
	defer serverSide.Close()
	serverConn := tls.Server(serverSide, r.TLSConfig())
	cfg := clientConfig(f, mustClient(b, f.clientCA, "bob", nil))
	cfg.ServerName = "localhost"
	done := make(chan error, 1)
	go func() { done <- tls.Client(clientSide, cfg).Handshake() }()
	if err := serverConn.Handshake(); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	state := serverConn.ConnectionState()
	req := httptest.NewRequestWithContext(r.ConnContext(context.Background(), serverConn), http.MethodGet, "/", nil)
	req.TLS = &state
	served := 0
	h := r.Reverify(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }))
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(nil, req)
	}
	if served != b.N {
		b.Fatalf("served %d of %d requests", served, b.N)
	}
}

// TestExpiryNoticedOnRunsClock shows that the clock Run keeps for the common
// path moves: a certificate that expires while its connection is open is
// refused without any reload.
func TestExpiryNoticedOnRunsClock(t *testing.T) {
	f := newFixture(t)
	clk := newClock()
	now := clk.now()
	bob := mustClient(t, f.clientCA, "bob", nil, certs.WithValidity(now.Add(-time.Hour), now.Add(time.Hour)))
	refused := &refusals{}
	r := newReloader(t, f.cfg, tlsconfig.WithClock(clk.now), tlsconfig.WithClockTick(10*time.Millisecond),
		tlsconfig.WithOnRefused(refused.add))
	runReloader(t, r)
	c := newKeepAlive(t, f, startReverifyServer(t, r), true, clientCert(bob))
	if rep := c.mustGet(t); rep.status != http.StatusOK {
		t.Fatalf("before the expiry: %d", rep.status)
	}
	clk.advance(2 * time.Hour)
	testkit.Eventually(t, waitTimeout, "bob's open connection is refused", func() error {
		if rep := c.mustGet(t); rep.status != http.StatusForbidden || !rep.reused {
			return fmt.Errorf("status %d (reused %v)", rep.status, rep.reused)
		}
		return nil
	})
	if got := refused.get(); !slices.Equal(got, []string{tlsconfig.RefusedExpired}) {
		t.Errorf("refusals %q, want [expired]", got)
	}
}
