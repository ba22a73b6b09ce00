package audit

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/replicasd/replicasd/src/identity"
	"github.com/replicasd/replicasd/src/requestinfo"
)

// HeaderRequestID carries the request ID, from the client and back.
const HeaderRequestID = "X-Request-ID"

// headerRequestIDKey is HeaderRequestID as net/http stores it, to index the
// header maps directly: Header.Get and Set would canonicalise the name, an
// allocation, twice per request.
var headerRequestIDKey = http.CanonicalHeaderKey(HeaderRequestID)

// maxRequestIDLength bounds a client's request ID; a longer one is replaced.
const maxRequestIDLength = 128

// maxCapturedBody bounds the error body kept to read its message.
const maxCapturedBody = 4 << 10

// Middleware gives each request its ID and writes its audit event once it
// is answered, when it is audited: every write attempt (any method but GET,
// HEAD and OPTIONS), every refusal (401, 403, 429), and every other request
// when Options.Reads is set.
//
// The ID is the client's X-Request-ID when usable, echoed in the response
// whether or not the request is audited. Without one, an audited request
// gets a generated ID, in its event and in the response's X-Request-ID; an
// unaudited one (a successful read, by default) gets none, since it would
// name nothing the server keeps, and a fresh ID on every response only
// costs (over HTTP/2, each unique value also goes through HPACK's dynamic
// table).
//
// It reads the verb, target and before/after state from the request's requestinfo.Info, which it puts
// into the context when no earlier middleware did, and the client identity
// from identity.From, so it must run inside identity.Middleware
// and outside everything that can refuse a request.
//
// A handler's panic is recovered here and answered 500 (see finish), so
// that the request is audited all the same.
func (l *Logger) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := requestinfo.From(r.Context())
		if info == nil {
			info = &requestinfo.Info{}
			r = r.WithContext(requestinfo.With(r.Context(), info))
		}
		info.RequestID = ""
		if v := r.Header[headerRequestIDKey]; len(v) > 0 && usableRequestID(v[0]) {
			info.RequestID = v[0]
		}

		rec := &recorder{logger: l, method: r.Method, info: info}
		rec.Recorder = requestinfo.Recorder{ResponseWriter: w, Hook: rec, KeepErrorBody: maxCapturedBody}
		defer l.finish(rec, r, info, start)
		// The Recorder itself, not rec, goes down: the metrics middleware
		// records through it instead of wrapping the writer again.
		next.ServeHTTP(&rec.Recorder, r)
	})
}

// finish writes the request's audit event once it is answered. It runs
// deferred, so that a request whose handler panicked is answered (500 with
// the error envelope, unless an answer had begun), counted, logged once
// with its stack, and audited like any other; net/http would only log the
// panic and drop the connection. http.ErrAbortHandler, a deliberate abort,
// is audited and then passed on to net/http.
func (l *Logger) finish(rec *recorder, r *http.Request, info *requestinfo.Info, start time.Time) {
	v := recover()
	if v != nil && v != http.ErrAbortHandler { //nolint:errorlint // recover returns the value itself
		l.answerPanic(v, rec, r, info)
	}
	// Nothing written: net/http answers 200 once the handler returns, with
	// the headers set by then.
	rec.RecordStatus(http.StatusOK)
	// A panic is audited whatever the method: it is a bug to look into.
	if v != nil || l.audited(r.Method, rec.Status()) {
		l.Log(requestEvent(r, info, rec.Status(), rec.Body(), start, time.Since(start)))
	}
	if v != nil && v == http.ErrAbortHandler { //nolint:errorlint // see above
		panic(v)
	}
}

// panicMessage is the error envelope's message of a request whose handler
// panicked; the log line has the panic and its stack.
const panicMessage = "internal server error"

// answerPanic answers, counts and logs a request whose handler panicked
// with v.
func (l *Logger) answerPanic(v any, rec *recorder, r *http.Request, info *requestinfo.Info) {
	l.opts.OnPanic()
	l.opts.Logger.Error("API handler panicked", "method", r.Method, "path", r.URL.Path,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	info.Status, info.Reason = http.StatusInternalServerError, panicMessage
	if info.RequestID == "" {
		// Audited whatever the method, so it gets an ID like every audited
		// request.
		info.RequestID = NewRequestID()
	}
	if rec.Status() != 0 {
		return // an answer has begun: too late to change it
	}
	h := rec.Header()
	for _, k := range []string{"Content-Length", "Etag", "Retry-After", "Allow"} {
		delete(h, k)
	}
	h.Set("Content-Type", "application/json")
	rec.WriteHeader(http.StatusInternalServerError)
	_, _ = rec.Write([]byte(`{"error":"` + panicMessage + `"}` + "\n"))
}

// audited reports whether a request gets an audit event.
func (l *Logger) audited(method string, status int) bool {
	switch {
	case method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions:
		return true
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests:
		return true
	}
	return l.opts.Reads
}

// requestEvent builds the event of an answered request.
func requestEvent(r *http.Request, info *requestinfo.Info, status int, body []byte, start time.Time, latency time.Duration) *Event {
	ev := &Event{
		Time:           start,
		Kind:           KindRequest,
		RequestID:      info.RequestID,
		RemoteAddr:     r.RemoteAddr,
		Method:         r.Method,
		Path:           r.URL.Path,
		Verb:           info.Verb,
		Namespace:      info.Namespace,
		Name:           info.Name,
		Outcome:        Outcome{Status: status, Reason: http.StatusText(status)},
		LatencySeconds: latency.Seconds(),
	}
	if id, ok := identity.From(r.Context()); ok {
		ev.Client = &id
	}
	if info.ReplicasRequested != nil || info.ReplicasBefore != nil || info.ReplicasAfter != nil {
		ev.Replicas = &ReplicasChange{Requested: info.ReplicasRequested, Before: info.ReplicasBefore, After: info.ReplicasAfter}
	}
	if info.ResourceVersionBefore != "" || info.ResourceVersionAfter != "" {
		ev.ResourceVersion = &VersionChange{Before: info.ResourceVersionBefore, After: info.ResourceVersionAfter}
	}
	if status >= http.StatusBadRequest {
		ev.Outcome.Message = info.Reason
		if ev.Outcome.Message == "" {
			// Refused by a middleware that did not fill the Info: the
			// envelope it wrote says why.
			var envelope struct {
				Error string `json:"error"`
			}
			if json.Unmarshal(body, &envelope) == nil {
				ev.Outcome.Message = envelope.Error
			}
		}
	}
	return ev
}

// usableRequestID reports whether a client's ID is short and made of
// characters that cannot forge log lines or headers; an unusable one is
// dropped, and an audited request gets a generated one instead.
func usableRequestID(id string) bool {
	n := len(id)
	if n == 0 || n > maxRequestIDLength {
		return false
	}
	for i := range n {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// NewRequestID returns 128 random bits in hex.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	// Encoded on the stack: one allocation, the string, per request.
	var h [32]byte
	hex.Encode(h[:], b[:])
	return string(h[:])
}

// recorder sets X-Request-ID once the status, and so whether the request
// is audited, is known: the Recorder tells it, before the header is written.
type recorder struct {
	requestinfo.Recorder
	logger *Logger
	method string
	info   *requestinfo.Info
}

// Answering sets X-Request-ID for an answer with status code: the client's,
// or for an audited request a generated one, which its event will carry.
func (r *recorder) Answering(w http.ResponseWriter, code int) {
	if r.info.RequestID == "" && r.logger.audited(r.method, code) {
		r.info.RequestID = NewRequestID()
	}
	if r.info.RequestID != "" {
		w.Header()[headerRequestIDKey] = []string{r.info.RequestID}
	}
}
