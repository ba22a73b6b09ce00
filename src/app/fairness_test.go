package app

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestGreedyClientDoesNotStarveOthersEndToEnd: over real mTLS, one identity
// holding long minResourceVersion waits is capped at its share of the
// in-flight bound (429 naming it), while another identity is served and
// /health answers for both.
func TestGreedyClientDoesNotStarveOthersEndToEnd(t *testing.T) {
	h := startReady(t, securityCluster(t), func(c *Config) {
		c.MaxInflightRequests = 4
		c.MaxInflightRequestsPerClient = 2
		c.MinResourceVersionTimeout = time.Minute
	})
	greedy, polite := h.clientAs("greedy"), h.clientAs("polite")
	// A resourceVersion the API has and the cache never hears of: each
	// request for it waits until its client gives up.
	ahead := h.cluster.Advance(1000)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	// As many waits as the whole bound, each retried when refused.
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				req, _ := http.NewRequestWithContext(ctx, "GET", h.base+"/deployments?minResourceVersion="+ahead, nil)
				resp, err := greedy.Do(req)
				if err != nil {
					return // cancelled at the end of the test
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusTooManyRequests {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		})
	}
	var last answer
	h.eventually(func() bool {
		last = do(t, greedy, "GET", h.base+"/deployments", "")
		return last.status == http.StatusTooManyRequests
	})
	wantError(t, last, 429, "too many requests in flight from CN=greedy: the limit is 2 at once; retry after 1s")
	if got := last.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	if a := do(t, polite, "GET", h.base+"/deployments", ""); a.status != http.StatusOK {
		t.Errorf("another identity's GET while the greedy one is at its cap = %d %s", a.status, a.body)
	}
	for name, c := range map[string]*http.Client{"greedy": greedy, "polite": polite} {
		if a := do(t, c, "GET", h.base+"/health", ""); a.status != http.StatusOK {
			t.Errorf("GET /health by %s = %d %s", name, a.status, a.body)
		}
	}
}

// TestResourceVersionAheadOfTheAPIEndToEnd: a minResourceVersion ahead of
// the Kubernetes API is answered at once with 504 and Retry-After, as
// kube-apiserver answers "Too large resource version", not after the wait
// (a minute here, longer than the client's own timeout).
func TestResourceVersionAheadOfTheAPIEndToEnd(t *testing.T) {
	h := startReady(t, securityCluster(t), func(c *Config) { c.MinResourceVersionTimeout = time.Minute })
	current, err := strconv.ParseInt(h.cluster.Advance(0), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	far := strconv.FormatInt(current+1_000_000, 10)
	for _, path := range []string{"/deployments", "/namespaces/team-a/deployments/web/replicas"} {
		a := do(t, h.client, "GET", h.base+path+"?minResourceVersion="+far, "")
		wantError(t, a, http.StatusGatewayTimeout, fmt.Sprintf(
			"Too large resource version: %s, current: %d: nothing in the Kubernetes API has that resourceVersion yet", far, current))
		if got := a.header.Get("Retry-After"); got != "1" {
			t.Errorf("%s: Retry-After = %q, want 1", path, got)
		}
	}
}
