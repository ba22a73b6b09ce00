package app

import (
	"context"
	"errors"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// cutGrace is how long Run still waits, once the shutdown timeout has cut
// the API requests in flight, for their handlers to return, so that their
// audit events reach the audit stream before it closes. Their contexts are
// cancelled by then, so a handler that calls Kubernetes returns at once.
const cutGrace = time.Second

// trackInflight counts the API requests being served, so that a shutdown
// that runs out of time can say how many it cut.
func (s *Server) trackInflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		next.ServeHTTP(w, r)
	})
}

// shutdown turns readiness false, then lets the API server's requests
// finish within ShutdownTimeout and cuts those still running after it;
// the ops server goes last, so probes and scrapes see the drain. Running
// out of time is not an error: the process still exits 0, as the contract
// says, and the log says how many requests were cut.
func (s *Server) shutdown() error {
	s.checker.SetShuttingDown()
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	apiErr := s.apiServer.Shutdown(ctx)
	if errors.Is(apiErr, context.DeadlineExceeded) {
		apiErr = s.cutInflight()
	}
	opsErr := s.opsServer.Shutdown(ctx)
	if errors.Is(opsErr, context.DeadlineExceeded) {
		opsErr = s.opsServer.Close()
	}
	return errors.Join(apiErr, opsErr)
}

// cutInflight closes the API server's connections, whose requests did not
// finish within ShutdownTimeout, and waits up to cutGrace for their
// handlers to return.
func (s *Server) cutInflight() error {
	s.log.Warn("shutdown timeout reached; cut the API requests still in flight",
		"requests", s.inflight.Load(), "timeout", s.cfg.ShutdownTimeout.String())
	err := s.apiServer.Close()
	_ = wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, cutGrace, true,
		func(context.Context) (bool, error) { return s.inflight.Load() == 0, nil })
	return err
}
