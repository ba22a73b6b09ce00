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
// set, else the defaults.
func apiTimeouts(cfg *Config) (readHeader, write time.Duration) {
	return cmp.Or(cfg.ReadHeaderTimeout, readHeaderTimeout),
		cmp.Or(cfg.WriteTimeout, APIWriteTimeout(cfg.ReadYourWritesTimeout, cfg.MinResourceVersionTimeout))
}

// APIWriteTimeout is the mTLS API's write timeout for the given waits: the
// longer of them plus a fixed slack. A PUT's Kubernetes calls (bounded by
// --kube-api-timeout) and its read-your-writes wait must fit in it, so that
// the client gets an answer instead of a cut connection; options.Validate
// checks that they do.
func APIWriteTimeout(readYourWrites, minResourceVersion time.Duration) time.Duration {
	return max(readYourWrites, minResourceVersion) + writeTimeoutSlack
}
