package app

import (
	"cmp"
	"crypto/tls"
	"log"
	"net/http"
	"time"
)

// newAPIServer returns the mTLS API's HTTP server. Its timeouts bound what a
// slow or hostile client can hold: one that sends its headers slowly
// (slowloris) is cut off after the header timeout, one that never reads its
// answer after the write timeout.
func newAPIServer(cfg *Config, handler http.Handler, tlsConfig *tls.Config, errorLog *log.Logger) *http.Server {
	readHeader, write := apiTimeouts(cfg)
	return &http.Server{
		Handler:           handler,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: readHeader,
		ReadTimeout:       readTimeout,
		WriteTimeout:      write,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          errorLog,
	}
}

// apiTimeouts returns the API server's header and write timeouts: cfg's when
// set, else the defaults. The write timeout leaves room for a PUT's
// Kubernetes calls plus its bounded read-your-writes wait.
func apiTimeouts(cfg *Config) (readHeader, write time.Duration) {
	return cmp.Or(cfg.ReadHeaderTimeout, readHeaderTimeout),
		cmp.Or(cfg.WriteTimeout, max(cfg.ReadYourWritesTimeout, cfg.MinResourceVersionTimeout)+writeTimeoutSlack)
}
