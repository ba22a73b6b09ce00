package audit

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/replicasd/replicasd/src/requestinfo"
	"github.com/replicasd/replicasd/src/tlsconfig"
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

// Middleware gives each request its ID (the client's X-Request-ID when
// usable, else a generated one, echoed in the response) and writes its
// audit event once it is answered, when it is audited: every write attempt
// (any method but GET, HEAD and OPTIONS), every refusal (401, 403, 429), and
// every other request when Options.Reads is set. It reads the verb, target
// and before/after state from the request's requestinfo.Info, which it puts
// into the context when no earlier middleware did, and the client identity
// from tlsconfig.IdentityFrom, so it must run inside tlsconfig.Middleware
// and outside everything that can refuse a request.
func (l *Logger) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := requestinfo.From(r.Context())
		if info == nil {
			info = &requestinfo.Info{}
			r = r.WithContext(requestinfo.With(r.Context(), info))
		}
		var fromClient string
		if v := r.Header[headerRequestIDKey]; len(v) > 0 {
			fromClient = v[0]
		}
		info.RequestID = requestID(fromClient)
		w.Header()[headerRequestIDKey] = []string{info.RequestID}

		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)

		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		if !l.audited(r.Method, status) {
			return
		}
		l.Log(requestEvent(r, info, status, rec.body, start, time.Since(start)))
	})
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
	if id, ok := tlsconfig.IdentityFrom(r.Context()); ok {
		ev.Client = &id
	}
	if info.ReplicasBefore != nil || info.ReplicasAfter != nil {
		ev.Replicas = &ReplicasChange{Before: info.ReplicasBefore, After: info.ReplicasAfter}
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

// requestID returns the client's ID when it is short and made of characters
// that cannot forge log lines or headers, else a fresh random one.
func requestID(fromClient string) string {
	if n := len(fromClient); n > 0 && n <= maxRequestIDLength {
		ok := true
		for i := 0; i < n && ok; i++ {
			c := fromClient[i]
			ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				c == '-' || c == '_' || c == '.' || c == ':' || c == '+' || c == '/' || c == '='
		}
		if ok {
			return fromClient
		}
	}
	return NewRequestID()
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

// recorder remembers the status and the start of an error body.
type recorder struct {
	http.ResponseWriter
	status int
	body   []byte
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.status >= http.StatusBadRequest && len(r.body) < maxCapturedBody {
		r.body = append(r.body, b[:min(len(b), maxCapturedBody-len(r.body))]...)
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
