package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of [Config].
const (
	// DefaultMaxKeys bounds the identities tracked at once.
	DefaultMaxKeys = 10000
	// sweepInterval is how often idle buckets are dropped in passing.
	sweepInterval = time.Minute
)

// Config configures a [Limiter].
type Config struct {
	// What names the limited requests in messages, e.g. "write requests".
	What string
	// Rate is the sustained requests per second allowed to each key; zero
	// or negative disables the limiter.
	Rate float64
	// Burst is how many requests a key may make at once; at least 1 when
	// Rate is positive.
	Burst int
	// MaxKeys bounds the keys tracked at once; zero means DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; nil means time.Now. Tests set their own.
	Now func() time.Time
}

// Limiter is a set of token buckets, one per key (a client identity). Its
// memory is bounded: a bucket that has refilled is dropped, which changes
// nothing since a new bucket starts full; and when MaxKeys buckets are all in
// use, further keys share one overflow bucket, so a flood of identities is
// limited together rather than growing the map. Safe for concurrent use.
type Limiter struct {
	cfg Config
	// refill is how long an emptied bucket takes to fill up again.
	refill time.Duration

	mu        sync.Mutex
	buckets   map[string]*rate.Limiter
	overflow  *rate.Limiter
	lastSweep time.Time
}

// New returns a Limiter for cfg. With Rate zero or negative, it allows
// everything.
func New(cfg Config) *Limiter {
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Burst = max(cfg.Burst, 1)
	l := &Limiter{cfg: cfg}
	if l.Enabled() {
		l.buckets = map[string]*rate.Limiter{}
		l.overflow = rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst)
		l.refill = time.Duration(math.Ceil(float64(cfg.Burst) / cfg.Rate * float64(time.Second)))
		l.lastSweep = cfg.Now()
	}
	return l
}

// Enabled reports whether the limiter limits anything.
func (l *Limiter) Enabled() bool { return l.cfg.Rate > 0 && !math.IsInf(l.cfg.Rate, 1) }

// Allow takes a token from key's bucket. It returns nil when there was one,
// else an [*Error] whose RetryAfter is when the next token comes; a refused
// request takes nothing.
func (l *Limiter) Allow(key string) error {
	if !l.Enabled() {
		return nil
	}
	now := l.cfg.Now()
	l.mu.Lock()
	b := l.bucket(key, now)
	r := b.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay > 0 {
		r.CancelAt(now)
	}
	l.mu.Unlock()
	if delay == 0 {
		return nil
	}
	return &Error{What: l.cfg.What, Key: key, Limit: l.cfg.Rate, Burst: l.cfg.Burst, RetryAfter: delay}
}

// bucket returns key's bucket, creating it if there is room. l.mu is held.
func (l *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	if b, ok := l.buckets[key]; ok {
		return b
	}
	if now.Sub(l.lastSweep) >= sweepInterval || (len(l.buckets) >= l.cfg.MaxKeys && now.Sub(l.lastSweep) >= time.Second) {
		l.sweep(now)
	}
	if len(l.buckets) >= l.cfg.MaxKeys {
		return l.overflow
	}
	b := rate.NewLimiter(rate.Limit(l.cfg.Rate), l.cfg.Burst)
	l.buckets[key] = b
	return b
}

// sweep drops the buckets that are full again. l.mu is held.
func (l *Limiter) sweep(now time.Time) {
	l.lastSweep = now
	for key, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.cfg.Burst) {
			delete(l.buckets, key)
		}
	}
}

// Len returns how many keys have a bucket now, for tests and metrics.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
