package health

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/testkit"
)

// waitTimeout bounds every wait; it only matters when a test fails.
const waitTimeout = 10 * time.Second

func TestProbes(t *testing.T) {
	down := errors.New(`Get "https://10.96.0.1:443/readyz": dial tcp 10.96.0.1:443: connect: connection refused`)
	watchFailing := errors.New("forbidden")
	tests := []struct {
		name          string
		probeErr      error
		synced        bool
		watchErr      error
		shuttingDown  bool
		wantReady     int
		wantReadyBody string
		wantCheckErr  bool
	}{
		{name: "healthy", synced: true, wantReady: 200, wantReadyBody: "ok"},
		{name: "not synced", synced: false, wantReady: 503, wantReadyBody: "deployment cache not synced", wantCheckErr: true},
		{name: "api unreachable", probeErr: down, synced: true, wantReady: 503, wantReadyBody: "kubernetes API unreachable", wantCheckErr: true},
		{name: "watch failing", synced: true, watchErr: watchFailing, wantReady: 503, wantReadyBody: "watching deployments failed", wantCheckErr: true},
		{name: "shutting down", synced: true, shuttingDown: true, wantReady: 503, wantReadyBody: "shutting down", wantCheckErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{
				Probe:      func(context.Context) error { return tt.probeErr },
				Synced:     func() bool { return tt.synced },
				WatchError: func() error { return tt.watchErr },
			})
			c.probeOnce(context.Background())
			if tt.shuttingDown {
				c.SetShuttingDown()
			}
			mux := http.NewServeMux()
			c.Register(mux)
			for _, path := range []string{"/readyz", "/healthz"} {
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
				if rec.Code != tt.wantReady || !strings.Contains(rec.Body.String(), tt.wantReadyBody) {
					t.Errorf("%s = %d %q, want %d containing %q", path, rec.Code, rec.Body, tt.wantReady, tt.wantReadyBody)
				}
				if strings.Contains(rec.Body.String(), "10.96.0.1") {
					t.Errorf("%s = %q names the Kubernetes API server's address", path, rec.Body)
				}
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", "/livez", nil))
			if rec.Code != 200 {
				t.Errorf("/livez = %d, want 200", rec.Code)
			}
			if got := c.Check() != nil; got != tt.wantCheckErr {
				t.Errorf("Check() error = %v, want error %v", c.Check(), tt.wantCheckErr)
			}
		})
	}
}

// TestAPIHealthAgreesWithReadyzAndHidesAddresses: /api/v1/health (Check)
// says what /readyz (Ready) says, and neither repeats the Kubernetes API
// server's URL or address from the underlying errors; the log has them.
func TestAPIHealthAgreesWithReadyzAndHidesAddresses(t *testing.T) {
	const detail = `Get "https://10.96.0.1:443/readyz": dial tcp 10.96.0.1:443: connect: connection refused`
	tests := []struct {
		name     string
		probeErr error
		synced   bool
		watchErr error
		want     error
	}{
		{name: "not synced", synced: false, want: ErrNotSynced},
		{name: "probe failing", synced: true, probeErr: errors.New(detail), want: ErrAPIUnreachable},
		{name: "watch failing", synced: true, watchErr: errors.New(detail), want: ErrWatchFailing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			c := New(Options{
				Probe:      func(context.Context) error { return tt.probeErr },
				Synced:     func() bool { return tt.synced },
				WatchError: func() error { return tt.watchErr },
				Logger:     testkit.TextLogger(&logs, slog.LevelInfo),
			})
			c.probeOnce(context.Background())
			if err := c.Check(); !errors.Is(err, tt.want) || err.Error() != tt.want.Error() {
				t.Errorf("Check() = %v, want %v", err, tt.want)
			}
			if err := c.Ready(); !errors.Is(err, tt.want) {
				t.Errorf("Ready() = %v, want %v", err, tt.want)
			}
			if tt.probeErr != nil && !strings.Contains(logs.String(), "10.96.0.1") {
				t.Errorf("the log lacks the probe's error: %q", logs.String())
			}
		})
	}
}

func TestNotReadyBeforeFirstProbe(t *testing.T) {
	c := New(Options{Probe: func(context.Context) error { return nil }})
	if err := c.Ready(); err == nil {
		t.Fatal("Ready() = nil before any probe, want an error")
	}
}

func TestRunFollowsReachability(t *testing.T) {
	var fail atomic.Bool
	c := New(Options{
		Interval: time.Millisecond,
		Probe: func(context.Context) error {
			if fail.Load() {
				return errors.New("down")
			}
			return nil
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	testkit.EventuallyTrue(t, waitTimeout, "the check passes", func() bool { return c.Check() == nil })
	fail.Store(true)
	testkit.EventuallyTrue(t, waitTimeout, "the check fails", func() bool { return c.Check() != nil })
	fail.Store(false)
	testkit.EventuallyTrue(t, waitTimeout, "the check passes", func() bool { return c.Check() == nil })
}
