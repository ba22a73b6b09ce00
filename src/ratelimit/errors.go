package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrLimited is what every [*Error] is (errors.Is).
var ErrLimited = errors.New("too many requests")

// Error is a request refused by a limiter.
type Error struct {
	// What was limited, for the message: "write requests", "read
	// requests", "requests in flight".
	What string
	// Key is the identity whose bucket is empty; "" for the in-flight
	// limit, which is the process's.
	Key string
	// Limit and Burst describe the bucket; zero for the in-flight limits.
	Limit float64
	Burst int
	// InFlight is the per-identity in-flight bound that Key reached; zero
	// for the rate limits and the process's in-flight bound.
	InFlight int
	// RetryAfter is how long until the request would be allowed.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("the server has too many %s; retry after %s", e.What, e.retryAfterText())
	}
	if e.InFlight > 0 {
		return fmt.Sprintf("too many %s from %s: the limit is %d at once; retry after %s",
			e.What, e.Key, e.InFlight, e.retryAfterText())
	}
	return fmt.Sprintf("too many %s from %s: the limit is %g per second with bursts of %d; retry after %s",
		e.What, e.Key, e.Limit, e.Burst, e.retryAfterText())
}

func (e *Error) retryAfterText() string {
	return fmt.Sprintf("%ds", e.RetryAfterSeconds())
}

// Is makes errors.Is(err, ErrLimited) hold.
func (e *Error) Is(target error) bool { return target == ErrLimited }

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1, as
// the Retry-After header wants: rounding down would send the client back too
// early.
func (e *Error) RetryAfterSeconds() int {
	s := math.Ceil(e.RetryAfter.Seconds())
	if s < 1 {
		return 1
	}
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(s)
}
