package ratelimit_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/ratelimit"
)

// clock is a manual clock for the limiters.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestLimiterBurstThenRate(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{What: "write requests", Rate: 2, Burst: 3, Now: c.Now})
	for i := range 3 {
		if err := l.Allow("CN=bob"); err != nil {
			t.Fatalf("request %d of the burst: %v", i+1, err)
		}
	}
	err := l.Allow("CN=bob")
	var le *ratelimit.Error
	if !errors.As(err, &le) || !errors.Is(err, ratelimit.ErrLimited) {
		t.Fatalf("request over the burst: %v, want a *ratelimit.Error", err)
	}
	if le.RetryAfter != 500*time.Millisecond || le.RetryAfterSeconds() != 1 {
		t.Errorf("RetryAfter = %v (%ds), want 500ms (1s)", le.RetryAfter, le.RetryAfterSeconds())
	}
	if want := "too many write requests from CN=bob: the limit is 2 per second with bursts of 3; retry after 1s"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	// Another identity has its own bucket.
	if err := l.Allow("CN=alice"); err != nil {
		t.Errorf("another identity: %v", err)
	}
	// A refused request took nothing: half a second later, one more.
	c.advance(500 * time.Millisecond)
	if err := l.Allow("CN=bob"); err != nil {
		t.Errorf("after the refill: %v", err)
	}
	if err := l.Allow("CN=bob"); err == nil {
		t.Error("second request after one token refilled was allowed")
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Rate: 0.25, Burst: 1, Now: c.Now})
	_ = l.Allow("k")
	c.advance(time.Second)
	var le *ratelimit.Error
	if err := l.Allow("k"); !errors.As(err, &le) {
		t.Fatalf("Allow = %v", err)
	}
	if le.RetryAfter != 3*time.Second || le.RetryAfterSeconds() != 3 {
		t.Errorf("RetryAfter = %v (%ds), want 3s", le.RetryAfter, le.RetryAfterSeconds())
	}
}

func TestDisabledLimiterAllowsEverything(t *testing.T) {
	for _, rate := range []float64{0, -1} {
		l := ratelimit.New(ratelimit.Config{Rate: rate, Burst: 1})
		for range 1000 {
			if err := l.Allow("k"); err != nil {
				t.Fatalf("rate %v: %v", rate, err)
			}
		}
		if l.Enabled() || l.Len() != 0 {
			t.Errorf("rate %v: Enabled %v, %d buckets", rate, l.Enabled(), l.Len())
		}
	}
}

func TestLimiterMemoryIsBounded(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 2, MaxKeys: 3, Now: c.Now})
	for i := range 3 {
		if err := l.Allow(fmt.Sprint("id-", i)); err != nil {
			t.Fatal(err)
		}
	}
	// Full: new identities share the overflow bucket (burst 2).
	for i := range 2 {
		if err := l.Allow(fmt.Sprint("new-", i)); err != nil {
			t.Fatalf("overflow request %d: %v", i, err)
		}
	}
	if err := l.Allow("new-2"); err == nil {
		t.Error("a third new identity was allowed while the overflow bucket is empty")
	}
	if n := l.Len(); n != 3 {
		t.Errorf("%d buckets, want at most MaxKeys=3", n)
	}
	// Once the buckets have refilled, they are dropped: room again.
	c.advance(2 * time.Second)
	if err := l.Allow("late"); err != nil {
		t.Fatalf("after the buckets refilled: %v", err)
	}
	if n := l.Len(); n != 1 {
		t.Errorf("%d buckets after the sweep, want only the new one", n)
	}
	// A bucket dropped while full behaves as before: a fresh one is full.
	for i := range 2 {
		if err := l.Allow("id-0"); err != nil {
			t.Fatalf("request %d of a fresh burst: %v", i, err)
		}
	}
}

func TestLimiterIdleSweep(t *testing.T) {
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Rate: 10, Burst: 5, Now: c.Now})
	for i := range 100 {
		_ = l.Allow(fmt.Sprint("id-", i))
	}
	c.advance(time.Minute)
	_ = l.Allow("now")
	if n := l.Len(); n != 1 {
		t.Errorf("%d buckets a minute later, want the idle ones dropped", n)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 50, Now: newClock().Now})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 10 {
		wg.Go(func() {
			for range 20 {
				if l.Allow("shared") == nil {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Errorf("%d of 200 concurrent requests allowed with a frozen clock, want the burst of 50", allowed)
	}
}

func TestInflight(t *testing.T) {
	l := ratelimit.NewInflight(2)
	r1, err1 := l.Acquire()
	r2, err2 := l.Acquire()
	if err1 != nil || err2 != nil {
		t.Fatalf("Acquire within the bound: %v, %v", err1, err2)
	}
	_, err := l.Acquire()
	var le *ratelimit.Error
	if !errors.As(err, &le) || le.RetryAfterSeconds() != 1 {
		t.Fatalf("Acquire over the bound = %v, want a *ratelimit.Error with Retry-After 1", err)
	}
	if want := "the server has too many requests in flight; retry after 1s"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if l.InFlight() != 2 {
		t.Errorf("InFlight = %d, want 2", l.InFlight())
	}
	r1()
	r3, err := l.Acquire()
	if err != nil {
		t.Fatalf("Acquire after a release: %v", err)
	}
	r2()
	r3()
	if l.InFlight() != 0 {
		t.Errorf("InFlight = %d after every release", l.InFlight())
	}
}

func TestInflightUnbounded(t *testing.T) {
	l := ratelimit.NewInflight(0)
	var releases []func()
	for range 1000 {
		r, err := l.Acquire()
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	if l.InFlight() != 1000 {
		t.Errorf("InFlight = %d, want 1000", l.InFlight())
	}
	for _, r := range releases {
		r()
	}
}
