package ratelimit

import "sync"

// ClientInflight bounds the requests each client identity has in flight at
// once, so that one identity holding many slow requests (long
// minResourceVersion waits, slow writes) cannot take the whole [Inflight]
// bound from everyone else. Its memory is bounded by the requests in flight:
// an identity is tracked only while it has one. Safe for concurrent use.
type ClientInflight struct {
	max int

	mu sync.Mutex
	n  map[string]int
}

// NewClientInflight returns a bound of max requests in flight per identity;
// zero or negative means no bound.
func NewClientInflight(max int) *ClientInflight {
	return &ClientInflight{max: max, n: map[string]int{}}
}

// Acquire admits one request of identity key and returns the function that
// ends it (call it once), or an [*Error] when key already has max requests
// in flight. A refused request takes no slot.
func (l *ClientInflight) Acquire(key string) (release func(), err error) {
	if l.max <= 0 {
		return func() {}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[key] >= l.max {
		return nil, &Error{What: "requests in flight", Key: key, InFlight: l.max, RetryAfter: inflightRetryAfter}
	}
	l.n[key]++
	return func() { l.release(key) }, nil
}

func (l *ClientInflight) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[key]--; l.n[key] <= 0 {
		delete(l.n, key)
	}
}

// InFlight returns how many requests identity key has in flight now.
func (l *ClientInflight) InFlight(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[key]
}

// Len returns how many identities have requests in flight now.
func (l *ClientInflight) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.n)
}
