// Package handshakes reports the failed TLS handshakes of the API server,
// each exactly once, with its reason, the client's address and, when the
// handshake got far enough, the identity of the certificate it presented.
//
// net/http performs the handshakes and reports each failure only as one line
// on the server's ErrorLog ("http: TLS handshake error from ADDR: ERR"), so
// the Watcher is that ErrorLog: it parses those lines and passes every other
// line on to the process logger.
package handshakes

import (
	"context"
	"crypto/tls"
	"log"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/replicasd/replicasd/src/identity"
)

// handshakeErrorPrefix starts net/http's line for a failed handshake.
const handshakeErrorPrefix = "http: TLS handshake error from "

// maxPendingIdentities bounds the identities waiting for their log line, in
// case a line ever goes missing.
const maxPendingIdentities = 1024

// Failure is one failed handshake.
type Failure struct {
	Time       time.Time
	RemoteAddr string
	// Reason is one of the reason constants.
	Reason string
	// Error is the TLS error, as net/http logged it.
	Error string
	// Client is the identity of the certificate the client presented, when
	// it was parsed and then refused by the server's VerifyConnection (for
	// example for lacking the clientAuth usage); nil when crypto/tls refused
	// the certificate itself or none was sent.
	Client *identity.Identity
}

// Watcher turns the API server's error log into Failures.
type Watcher struct {
	logger    *slog.Logger
	onFailure func(Failure)
	now       func() time.Time

	mu         sync.Mutex
	identities map[string]identity.Identity // by remote address
}

// New returns a Watcher that calls onFailure once per failed handshake, on
// the connection's goroutine (it must not block), and logs the failure at
// debug. A nil logger discards logs.
func New(logger *slog.Logger, onFailure func(Failure)) *Watcher {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if onFailure == nil {
		onFailure = func(Failure) {}
	}
	return &Watcher{logger: logger, onFailure: onFailure, now: time.Now, identities: map[string]identity.Identity{}}
}

// ErrorLog returns the logger to use as http.Server.ErrorLog.
func (w *Watcher) ErrorLog() *log.Logger { return log.New(w, "", 0) }

// Write takes one line of the error log (log.Logger writes each message
// with one call).
func (w *Watcher) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	rest, ok := strings.CutPrefix(line, handshakeErrorPrefix)
	if !ok {
		w.logOther(line)
		return len(p), nil
	}
	addr, msg, ok := strings.Cut(rest, ": ")
	if !ok {
		w.logOther(line)
		return len(p), nil
	}
	f := Failure{Time: w.now(), RemoteAddr: addr, Reason: Classify(msg), Error: msg}
	if id, ok := w.takeIdentity(addr); ok {
		f.Client = &id
	}
	attrs := []any{"remoteAddr", f.RemoteAddr, "reason", f.Reason, "error", f.Error}
	if f.Client != nil {
		attrs = append(attrs, "client", f.Client.String(), "serial", f.Client.Serial)
	}
	// Routine noise from the network, so debug; the metric counts them.
	w.logger.Debug("TLS handshake failed", attrs...)
	w.onFailure(f)
	return len(p), nil
}

// logOther passes on a line that is not about a handshake: a handler panic
// is an error, the rest (HTTP/2 chatter, accept retries) is debug.
func (w *Watcher) logOther(line string) {
	level := slog.LevelDebug
	if strings.HasPrefix(line, "http: panic serving") {
		level = slog.LevelError
	}
	w.logger.Log(context.Background(), level, "API server: "+firstLine(line))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Config returns base with its per-connection configurations wrapped so
// that a certificate refused by their VerifyConnection is remembered with
// the connection's address, for the Failure that follows.
func (w *Watcher) Config(base *tls.Config) *tls.Config {
	cfg := base.Clone()
	get := base.GetConfigForClient
	if get == nil {
		return cfg
	}
	cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c, err := get(hello)
		if err != nil || c == nil || c.VerifyConnection == nil || hello.Conn == nil {
			return c, err
		}
		// A shallow copy per handshake: cheap next to the handshake itself,
		// and it keeps the session ticket keys.
		c = c.Clone()
		c.VerifyConnection = w.verifyConnection(hello.Conn.RemoteAddr().String(), c.VerifyConnection)
		return c, nil
	}
	return cfg
}

func (w *Watcher) verifyConnection(addr string, verify func(tls.ConnectionState) error) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		err := verify(cs)
		if err != nil && len(cs.PeerCertificates) > 0 {
			w.mu.Lock()
			if len(w.identities) < maxPendingIdentities {
				w.identities[addr] = identity.FromCertificate(cs.PeerCertificates[0])
			}
			w.mu.Unlock()
		}
		return err
	}
}

func (w *Watcher) takeIdentity(addr string) (identity.Identity, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	id, ok := w.identities[addr]
	delete(w.identities, addr)
	return id, ok
}
