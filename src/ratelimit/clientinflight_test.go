package ratelimit_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/replicasd/replicasd/src/ratelimit"
)

// TestClientInflightCapsOneIdentityNotOthers: an identity at its cap is
// refused with a 429-kind error naming it, while another identity is still
// admitted; a release gives the slot back.
func TestClientInflightCapsOneIdentityNotOthers(t *testing.T) {
	l := ratelimit.NewClientInflight(2)
	var greedy []func()
	for i := range 2 {
		r, err := l.Acquire("CN=greedy")
		if err != nil {
			t.Fatalf("request %d of the greedy identity within its cap: %v", i+1, err)
		}
		greedy = append(greedy, r)
	}
	_, err := l.Acquire("CN=greedy")
	var le *ratelimit.Error
	if !errors.As(err, &le) || !errors.Is(err, ratelimit.ErrLimited) {
		t.Fatalf("third request of the greedy identity: %v, want a *ratelimit.Error", err)
	}
	if le.RetryAfterSeconds() != 1 {
		t.Errorf("RetryAfterSeconds = %d, want 1", le.RetryAfterSeconds())
	}
	if want := "too many requests in flight from CN=greedy: the limit is 2 at once; retry after 1s"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	other, err := l.Acquire("CN=polite")
	if err != nil {
		t.Fatalf("another identity while the greedy one is at its cap: %v", err)
	}
	if n := l.InFlight("CN=greedy"); n != 2 {
		t.Errorf("InFlight(greedy) = %d, want 2 (a refused request takes no slot)", n)
	}
	greedy[0]()
	r, err := l.Acquire("CN=greedy")
	if err != nil {
		t.Fatalf("after a release: %v", err)
	}
	r()
	greedy[1]()
	other()
	if n := l.Len(); n != 0 {
		t.Errorf("%d identities tracked after every release, want 0 (bounded memory)", n)
	}
}

func TestClientInflightUnbounded(t *testing.T) {
	l := ratelimit.NewClientInflight(0)
	var releases []func()
	for range 1000 {
		r, err := l.Acquire("k")
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	for _, r := range releases {
		r()
	}
}

func TestClientInflightConcurrent(t *testing.T) {
	l := ratelimit.NewClientInflight(5)
	var wg sync.WaitGroup
	var mu sync.Mutex
	held, maxHeld := 0, 0
	for range 20 {
		wg.Go(func() {
			for range 50 {
				r, err := l.Acquire("shared")
				if err != nil {
					continue
				}
				mu.Lock()
				held++
				maxHeld = max(maxHeld, held)
				mu.Unlock()
				mu.Lock()
				held--
				mu.Unlock()
				r()
			}
		})
	}
	wg.Wait()
	if maxHeld > 5 {
		t.Errorf("%d requests of one identity held at once, want at most the cap of 5", maxHeld)
	}
	if n := l.InFlight("shared"); n != 0 {
		t.Errorf("InFlight = %d after every release", n)
	}
}
