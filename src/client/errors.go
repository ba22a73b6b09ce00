package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// APIError is an answer from the server with an error status (anything but
// 2xx), carrying the message of the contract's {"error": "..."} envelope.
type APIError struct {
	// StatusCode is the HTTP status, e.g. 404 or 412.
	StatusCode int
	// Message is the envelope's "error"; the status text (or the start of
	// the body) when the answer had no envelope, e.g. from a proxy.
	Message string
	// RetryAfter is the server's Retry-After hint (429, 503); 0 when absent.
	RetryAfter time.Duration
	// Method and URL name the request that failed.
	Method, URL string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// StatusCode returns the HTTP status of an *APIError anywhere in err's
// chain, and 0 when err is not an answer from the server.
func StatusCode(err error) int {
	if apiErr, ok := errors.AsType[*APIError](err); ok {
		return apiErr.StatusCode
	}
	return 0
}

// Kind says why a request got no HTTP answer.
type Kind int

// The kinds of ConnectionError. The ClientCert kinds are the server's
// verdict on the certificate this client presented, as told by its TLS
// alert; the ServerCert kinds are this client's verdict on the server's.
const (
	// KindOther is a transport failure that fits no other kind.
	KindOther Kind = iota
	// KindUnreachable: no connection (DNS, refused, no route).
	KindUnreachable
	// KindTimeout: no answer before the deadline.
	KindTimeout
	// KindClosed: the server closed or reset the connection without an
	// answer. During a TLS 1.3 handshake this can also be a refused client
	// certificate whose alert was lost.
	KindClosed
	// KindNotHTTPS: the server answered in plain HTTP, not TLS.
	KindNotHTTPS
	// KindServerCertUntrusted: the server's certificate does not chain to
	// a trusted CA (the CA file, or the system's roots without one).
	KindServerCertUntrusted
	// KindServerNameMismatch: the server's certificate does not cover the
	// host name or IP address of the server URL.
	KindServerNameMismatch
	// KindServerCertInvalid: the server's certificate is expired, not yet
	// valid, or otherwise unusable.
	KindServerCertInvalid
	// KindClientCertRequired: the server requires a client certificate and
	// received none.
	KindClientCertRequired
	// KindClientCertUnknownCA: the client certificate is not signed by a CA
	// the server trusts for clients.
	KindClientCertUnknownCA
	// KindClientCertExpired: the server found the client certificate
	// expired (or not yet valid).
	KindClientCertExpired
	// KindClientCertRejected: the server refused the client certificate for
	// another reason, e.g. it lacks the clientAuth extended key usage.
	KindClientCertRejected
	// KindTLS: the TLS handshake failed otherwise (versions, ciphers).
	KindTLS
)

var kindNames = map[Kind]string{
	KindOther:               "connection failed",
	KindUnreachable:         "server unreachable",
	KindTimeout:             "timed out",
	KindClosed:              "connection closed by the server",
	KindNotHTTPS:            "server does not speak HTTPS",
	KindServerCertUntrusted: "server certificate not trusted",
	KindServerNameMismatch:  "server certificate does not match the server name",
	KindServerCertInvalid:   "server certificate invalid",
	KindClientCertRequired:  "client certificate required",
	KindClientCertUnknownCA: "client certificate not signed by the server's client CA",
	KindClientCertExpired:   "client certificate expired",
	KindClientCertRejected:  "client certificate refused",
	KindTLS:                 "TLS handshake failed",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ConnectionError is a request that got no HTTP answer: the connection or
// the TLS handshake failed, or the connection broke before the answer.
type ConnectionError struct {
	Kind Kind
	// Server is the base URL the client talks to.
	Server string
	// ClientCert is the certificate this client presented, nil when none;
	// callers use it to explain a refusal (e.g. its NotAfter).
	ClientCert *x509.Certificate
	// Err is the transport's error (usually a *url.Error).
	Err error
}

func (e *ConnectionError) Error() string { return e.Kind.String() + ": " + e.Err.Error() }

func (e *ConnectionError) Unwrap() error { return e.Err }

// http2NotEstablished is net/http's (unexported) error for an HTTP/2
// connection the server closed right after the handshake, before its
// settings: what a refused client certificate looks like when its alert is
// lost.
const http2NotEstablished = "http2: client conn could not be established"

// remoteAlertPrefix starts the message of a TLS alert sent by the peer, as
// crypto/tls reports it (its alert type is unexported).
const remoteAlertPrefix = "remote error: tls: "

// serverAlertKinds maps the server's TLS alerts about the client
// certificate (see crypto/tls's processCertsFromClient) to kinds.
var serverAlertKinds = map[string]Kind{
	"certificate required":          KindClientCertRequired,
	"unknown certificate authority": KindClientCertUnknownCA,
	"expired certificate":           KindClientCertExpired,
	"bad certificate":               KindClientCertRejected,
	"unsupported certificate":       KindClientCertRejected,
	"revoked certificate":           KindClientCertRejected,
	"unknown certificate":           KindClientCertRejected,
	"access denied":                 KindClientCertRejected,
}

// classify names the kind of a transport error. sentCert tells whether
// this client presented a certificate: a TLS 1.2 server answers a missing
// one with a generic "handshake failure".
func classify(err error, sentCert bool) Kind {
	if alert, ok := remoteAlert(err); ok {
		if k, ok := serverAlertKinds[alert]; ok {
			return k
		}
		if alert == "handshake failure" && !sentCert {
			return KindClientCertRequired
		}
		return KindTLS
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return KindServerCertUntrusted
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return KindServerNameMismatch
	}
	if _, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return KindServerCertInvalid
	}
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return KindServerCertInvalid
	}
	if errors.Is(err, http.ErrSchemeMismatch) {
		return KindNotHTTPS
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return KindNotHTTPS
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindTimeout
	}
	if netErr, ok := errors.AsType[net.Error](err); ok && netErr.Timeout() {
		return KindTimeout
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.EPIPE) || strings.Contains(err.Error(), http2NotEstablished) {
		return KindClosed
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return KindUnreachable
	}
	if opErr, ok := errors.AsType[*net.OpError](err); ok && opErr.Op == "dial" {
		return KindUnreachable
	}
	if _, ok := errors.AsType[tls.AlertError](err); ok {
		return KindTLS
	}
	if strings.Contains(err.Error(), "tls: ") {
		return KindTLS
	}
	return KindOther
}

// remoteAlert returns the description of a TLS alert the server sent, such
// as "unknown certificate authority".
func remoteAlert(err error) (string, bool) {
	if opErr, ok := errors.AsType[*net.OpError](err); ok && opErr.Op == "remote error" && opErr.Err != nil {
		return strings.TrimPrefix(opErr.Err.Error(), "tls: "), true
	}
	// Some transports flatten the error into text; fall back to it.
	msg := err.Error()
	if i := strings.Index(msg, remoteAlertPrefix); i >= 0 {
		return strings.TrimSpace(msg[i+len(remoteAlertPrefix):]), true
	}
	return "", false
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when
// absent or unparsable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
