package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/identity"
	"github.com/replicasd/replicasd/src/ratelimit"
)

// frozen is a clock that never moves, so buckets never refill during a test.
func frozen() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

func TestWriteRateLimit(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.WriteLimiter = ratelimit.New(ratelimit.Config{What: "write requests", Rate: 0.5, Burst: 2, Now: frozen})
	})
	bob, alice := clientIdentity("bob", "dev"), clientIdentity("alice")
	put := func(id *identity.Identity) *httptest.ResponseRecorder {
		rec, _ := f.requestAs(id, "PUT", "/api/v1/deployments/web/replicas", `{"replicaCount": 4}`, "Content-Type", "application/json")
		return rec
	}
	for i := range 2 {
		if rec := put(bob); rec.Code != http.StatusOK {
			t.Fatalf("PUT %d of the burst: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec, info := f.requestAs(bob, "PUT", "/api/v1/deployments/web/replicas", `{"replicaCount": 4}`, "Content-Type", "application/json")
	msg := checkError(t, rec, http.StatusTooManyRequests)
	if want := "too many write requests from CN=bob,O=dev: the limit is 0.5 per second with bursts of 2; retry after 2s"; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if got := rec.Header().Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (one token at 0.5/s)", got)
	}
	if info.Status != http.StatusTooManyRequests || info.Reason != msg {
		t.Errorf("requestinfo Status/Reason = %d %q", info.Status, info.Reason)
	}
	if n := len(f.scaler.Calls()); n != 2 {
		t.Errorf("%d Scale calls, want only the 2 allowed", n)
	}
	// Another identity has its own bucket; reads are not writes.
	if rec := put(alice); rec.Code != http.StatusOK {
		t.Errorf("another identity's PUT: %d %s", rec.Code, rec.Body)
	}
	if rec, _ := f.requestAs(bob, "GET", "/api/v1/deployments/web/replicas", ""); rec.Code != http.StatusOK {
		t.Errorf("GET while writes are limited: %d %s", rec.Code, rec.Body)
	}
}

func TestReadRateLimit(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.ReadLimiter = ratelimit.New(ratelimit.Config{What: "read requests", Rate: 1, Burst: 1, Now: frozen})
	})
	bob := clientIdentity("bob")
	if rec, _ := f.requestAs(bob, "GET", "/api/v1/deployments", ""); rec.Code != http.StatusOK {
		t.Fatalf("first GET: %d %s", rec.Code, rec.Body)
	}
	tests := []struct{ name, method, target string }{
		{"list", "GET", "/api/v1/deployments"},
		{"get", "GET", "/api/v1/namespaces/shop/deployments/web/replicas"},
		{"wrong method", "DELETE", "/api/v1/deployments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := f.requestAs(bob, tt.method, tt.target, "")
			checkError(t, rec, http.StatusTooManyRequests, "too many read requests from CN=bob")
			if got := rec.Header().Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After = %q, want 1", got)
			}
		})
	}
	t.Run("health is exempt", func(t *testing.T) {
		for range 3 {
			if rec, _ := f.requestAs(bob, "GET", "/api/v1/health", ""); rec.Code != http.StatusOK {
				t.Fatalf("GET /health: %d %s", rec.Code, rec.Body)
			}
		}
	})
	t.Run("writes are not reads", func(t *testing.T) {
		rec, _ := f.requestAs(bob, "PUT", "/api/v1/deployments/web/replicas", `{"replicaCount": 4}`, "Content-Type", "application/json")
		if rec.Code != http.StatusOK {
			t.Errorf("PUT: %d %s", rec.Code, rec.Body)
		}
	})
}

func TestMaxInflight(t *testing.T) {
	entered := make(chan struct{})
	unblock := make(chan struct{})
	f := newFixture(t, func(o *Options) { o.Inflight = ratelimit.NewInflight(1) })
	f.store.waitFn = func(ctx context.Context, rv string) error {
		close(entered)
		<-unblock
		return nil
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec, _ := f.requestAs(clientIdentity("slow"), "GET", "/api/v1/deployments?minResourceVersion=5", "")
		done <- rec
	}()
	<-entered
	// Any identity, any API route: the bound is the process's.
	for _, target := range []string{"/api/v1/deployments", "/api/v1/namespaces/shop/deployments/web/replicas"} {
		rec, _ := f.requestAs(clientIdentity("other"), "GET", target, "")
		checkError(t, rec, http.StatusTooManyRequests, "the server has too many requests in flight; retry after 1s")
		if got := rec.Header().Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q, want 1", got)
		}
	}
	// /health is outside that bound, so probes still get an answer.
	if rec, _ := f.requestAs(clientIdentity("other"), "GET", "/api/v1/health", ""); rec.Code != http.StatusOK {
		t.Errorf("GET /health while the in-flight bound is full: %d %s", rec.Code, rec.Body)
	}
	close(unblock)
	if rec := <-done; rec.Code != http.StatusOK {
		t.Errorf("the request in flight: %d %s", rec.Code, rec.Body)
	}
	if rec, _ := f.requestAs(clientIdentity("other"), "GET", "/api/v1/deployments", ""); rec.Code != http.StatusOK {
		t.Errorf("after the request in flight ended: %d %s", rec.Code, rec.Body)
	}
}

// TestClientInflightCap: one identity at its in-flight cap gets 429 with
// Retry-After, while another identity is served and /health still answers,
// for the greedy identity too.
func TestClientInflightCap(t *testing.T) {
	entered := make(chan struct{})
	unblock := make(chan struct{})
	f := newFixture(t, func(o *Options) {
		o.Inflight = ratelimit.NewInflight(10)
		o.ClientInflight = ratelimit.NewClientInflight(1)
	})
	f.store.waitFn = func(ctx context.Context, rv string) error {
		close(entered)
		<-unblock
		return nil
	}
	greedy := clientIdentity("greedy")
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec, _ := f.requestAs(greedy, "GET", "/api/v1/deployments?minResourceVersion=5", "")
		done <- rec
	}()
	<-entered
	rec, info := f.requestAs(greedy, "GET", "/api/v1/deployments", "")
	msg := checkError(t, rec, http.StatusTooManyRequests)
	if want := "too many requests in flight from CN=greedy: the limit is 1 at once; retry after 1s"; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if got := rec.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if info.Status != http.StatusTooManyRequests {
		t.Errorf("requestinfo Status = %d", info.Status)
	}
	if rec, _ := f.requestAs(clientIdentity("polite"), "GET", "/api/v1/deployments", ""); rec.Code != http.StatusOK {
		t.Errorf("another identity while the greedy one is at its cap: %d %s", rec.Code, rec.Body)
	}
	if rec, _ := f.requestAs(greedy, "GET", "/api/v1/health", ""); rec.Code != http.StatusOK {
		t.Errorf("GET /health by the identity at its cap: %d %s", rec.Code, rec.Body)
	}
	close(unblock)
	if rec := <-done; rec.Code != http.StatusOK {
		t.Errorf("the request in flight: %d %s", rec.Code, rec.Body)
	}
	if rec, _ := f.requestAs(greedy, "GET", "/api/v1/deployments", ""); rec.Code != http.StatusOK {
		t.Errorf("the greedy identity after its request ended: %d %s", rec.Code, rec.Body)
	}
}

// TestHealthInflightIsItsOwn: /health has its own in-flight bound, apart
// from the API's.
func TestHealthInflightIsItsOwn(t *testing.T) {
	health := ratelimit.NewInflight(1)
	f := newFixture(t, func(o *Options) {
		o.Inflight = ratelimit.NewInflight(5)
		o.HealthInflight = health
	})
	release, err := health.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	rec, _ := f.requestAs(clientIdentity("probe"), "GET", "/api/v1/health", "")
	checkError(t, rec, http.StatusTooManyRequests, "the server has too many requests in flight")
	if rec, _ := f.requestAs(clientIdentity("probe"), "GET", "/api/v1/deployments", ""); rec.Code != http.StatusOK {
		t.Errorf("GET /deployments while /health's bound is full: %d %s", rec.Code, rec.Body)
	}
}
