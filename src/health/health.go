// Package health keeps the state the probes read: whether the cache has
// synced, whether the Kubernetes API answered the last light reachability
// check, whether the informer's watch is failing, and whether the process is
// shutting down. No probe calls the Kubernetes API itself; only Run does, on
// its own schedule.
package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
)

// Probe checks that the Kubernetes API answers.
type Probe func(ctx context.Context) error

// APIServerProbe returns a Probe asking kube-apiserver's own /readyz, which
// every authenticated user may read (system:public-info-viewer), so it needs
// no extra RBAC.
func APIServerProbe(client rest.Interface) Probe {
	return func(ctx context.Context) error {
		return client.Get().AbsPath("/readyz").Do(ctx).Error()
	}
}

// Options configure a Checker.
type Options struct {
	// Probe is called every Interval, bounded by Timeout.
	Probe    Probe
	Interval time.Duration // default 2s
	Timeout  time.Duration // default 2s
	// Synced reports whether the informer cache has synced.
	Synced func() bool
	// WatchError reports the informer's current watch error, nil when the
	// watch is healthy.
	WatchError func() error
	Logger     *slog.Logger
}

// Checker holds the health state and serves it.
type Checker struct {
	opts Options

	mu       sync.RWMutex
	probeErr error

	shuttingDown atomic.Bool
}

var errNotProbed = errors.New("the Kubernetes API has not been checked yet")

// New returns a Checker. Until Run's first probe finishes, Kubernetes counts
// as not yet reachable.
func New(opts Options) *Checker {
	if opts.Interval <= 0 {
		opts.Interval = 2 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Synced == nil {
		opts.Synced = func() bool { return true }
	}
	if opts.WatchError == nil {
		opts.WatchError = func() error { return nil }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Checker{opts: opts, probeErr: errNotProbed}
}

// Run probes the Kubernetes API until ctx ends, logging each change between
// reachable and unreachable once.
func (c *Checker) Run(ctx context.Context) {
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		c.probeOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Checker) probeOnce(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	err := c.opts.Probe(pctx)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: not the API's fault
	}
	c.mu.Lock()
	prev := c.probeErr
	c.probeErr = err
	c.mu.Unlock()
	switch {
	case err != nil && (prev == nil || prev == errNotProbed):
		c.opts.Logger.Warn("Kubernetes API unreachable", "error", err)
	case err == nil && prev != nil && prev != errNotProbed:
		c.opts.Logger.Info("Kubernetes API reachable again")
	}
}

// The reasons Ready and Check give. They are all that clients see, on
// /readyz and on the API's /api/v1/health: the underlying errors carry the
// Kubernetes API server's URL and address, so they go to the log instead
// (Run logs the probe's, the cache the watch's).
var (
	ErrShuttingDown   = errors.New("shutting down")
	ErrNotSynced      = errors.New("deployment cache not synced")
	ErrAPIUnreachable = errors.New("kubernetes API unreachable")
	ErrWatchFailing   = errors.New("watching deployments failed")
)

// Ready reports whether the server should receive traffic: not shutting
// down, the cache synced, the last probe of the Kubernetes API succeeded
// and the informer's watch is not failing. The error is one of the Err
// values above.
func (c *Checker) Ready() error {
	if c.shuttingDown.Load() {
		return ErrShuttingDown
	}
	if !c.opts.Synced() {
		return ErrNotSynced
	}
	c.mu.RLock()
	err := c.probeErr
	c.mu.RUnlock()
	if err != nil {
		return ErrAPIUnreachable
	}
	if err := c.opts.WatchError(); err != nil {
		return ErrWatchFailing
	}
	return nil
}

// Check is Ready, for GET /api/v1/health: the API's health and /readyz
// read the same state, so that /api/v1/health never says healthy while
// reads answer 503 (before the cache synced) or while the server drains.
func (c *Checker) Check() error { return c.Ready() }

// SetShuttingDown turns readiness false for good, so load balancers stop
// sending new requests while in-flight ones drain.
func (c *Checker) SetShuttingDown() { c.shuttingDown.Store(true) }

// Register adds /livez, /readyz and /healthz to mux.
func (c *Checker) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { writeProbe(w, nil) })
	ready := func(w http.ResponseWriter, _ *http.Request) { writeProbe(w, c.Ready()) }
	mux.HandleFunc("GET /readyz", ready)
	mux.HandleFunc("GET /healthz", ready)
}

// writeProbe answers in the plain-text style of Kubernetes' own probes.
func writeProbe(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
