package ratelimit

import (
	"sync/atomic"
	"time"
)

// inflightRetryAfter is the Retry-After of a request refused for the
// in-flight bound: requests take milliseconds, so a second is plenty.
const inflightRetryAfter = time.Second

// Inflight bounds the requests being served at once, so a flood cannot
// exhaust the process's memory or goroutines. Safe for concurrent use.
type Inflight struct {
	max     int64
	n       atomic.Int64
	release func()
}

// NewInflight returns a bound of max requests; zero or negative means no
// bound.
func NewInflight(max int) *Inflight {
	l := &Inflight{max: int64(max)}
	// One release function for every request: a closure made per Acquire
	// would be an allocation on every request.
	l.release = func() { l.n.Add(-1) }
	return l
}

// Acquire admits one request and returns the function that ends it (call it
// once), or an [*Error] when max requests are already in flight.
func (l *Inflight) Acquire() (release func(), err error) {
	if l.n.Add(1) > l.max && l.max > 0 {
		l.n.Add(-1)
		return nil, &Error{What: "requests in flight", RetryAfter: inflightRetryAfter}
	}
	return l.release, nil
}

// InFlight returns how many requests are in flight now.
func (l *Inflight) InFlight() int { return int(l.n.Load()) }
