// Package testkit holds what the unit tests of several packages (and the
// integration suite) share: a log sink safe for a server's goroutines and
// the test to share, loggers writing into it or into the test's output, a
// polling wait with an explicit timeout, and reading one metric series.
// It is a test helper; the server never imports it.
package testkit

import (
	"bytes"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// Buffer is a bytes.Buffer safe for concurrent writers (a logger, an audit
// sink) and a test reading what they wrote. The zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p under the lock.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Bytes returns a copy of everything written so far.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// TextLogger logs text into w at level.
func TextLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// JSONLogger logs JSON into w at level.
func JSONLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// TestLogger logs text at debug level into the test's output, shown when
// the test fails or runs with -v.
func TestLogger(t testing.TB) *slog.Logger {
	return TextLogger(t.Output(), slog.LevelDebug)
}

// pollInterval is how long Eventually sleeps between two checks.
const pollInterval = 10 * time.Millisecond

// Eventually calls check until it returns nil, and fails the test with
// what and check's last error when timeout passes first. Size timeout for
// a loaded 2-core machine: it bounds a wait, it asserts no timing.
func Eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(pollInterval)
	}
}

// errFalse is the last error of an EventuallyTrue whose condition stayed
// false.
type errFalse struct{}

func (errFalse) Error() string { return "condition still false" }

// EventuallyTrue is Eventually for a condition that says only yes or no.
func EventuallyTrue(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	Eventually(t, timeout, what, func() error {
		if cond() {
			return nil
		}
		return errFalse{}
	})
}
