// Package baseline is the ceiling of replicasd's stack: net/http over the
// same TLS configuration (replicasd's own tlsconfig.Reloader, so the same
// certificates, client verification, versions and session tickets) and the
// same server timeouts, answering every request with one constant JSON
// body. Whatever replicasd does beyond this costs throughput.
package baseline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/replicasd/replicasd/src/tlsconfig"
)

// Server timeouts, as replicasd's API server sets them (src/app/server.go).
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 25 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 16 << 10
)

// Handler answers every request with body.
func Handler(body []byte) http.Handler {
	contentType := []string{"application/json"}
	length := []string{strconv.Itoa(len(body))}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = contentType
		h["Content-Length"] = length
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

// Serve serves body on addr over TLS built from cfg until ctx ends.
func Serve(ctx context.Context, addr string, cfg tlsconfig.Config, body []byte) error {
	reloader, err := tlsconfig.New(cfg, nil)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	srv := &http.Server{
		Handler:           Handler(body),
		TLSConfig:         reloader.TLSConfig(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("baseline: %w", err)
	}
	return nil
}
