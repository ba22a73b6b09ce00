package requestinfo

import "net/http"

// Recorder is the one http.ResponseWriter wrapper of the middleware that
// record a request's outcome (audit, metrics): it remembers the status of
// the answer and, for an error, the start of its body. A middleware handed
// a *Recorder by an outer one can record through it instead of wrapping
// the writer again.
//
// It implements only http.ResponseWriter and Unwrap: http.ResponseController
// reaches the connection's writer through Unwrap for flushing, deadlines,
// full duplex and hijacking (HTTP/1.1), and answers "not supported" where
// that writer does not (hijacking over HTTP/2), as without the Recorder.
type Recorder struct {
	http.ResponseWriter
	// Hook, when set, is told the status of the answer once, before its
	// header is written, so that it can still set headers.
	Hook StatusHook
	// KeepErrorBody is how many bytes of an error answer's body (status
	// 400 or more) Body keeps.
	KeepErrorBody int

	status int
	body   []byte
}

// StatusHook is told the status of an answer about to be written to w.
type StatusHook interface {
	Answering(w http.ResponseWriter, code int)
}

// Status returns the answer's status, or 0 while nothing was written.
func (r *Recorder) Status() int { return r.status }

// Body returns the start of an error answer's body, up to KeepErrorBody
// bytes.
func (r *Recorder) Body() []byte { return r.body }

// RecordStatus records code as the answer's status, and tells the Hook,
// unless a status is recorded already. Middleware use it for the answer
// net/http makes itself (200) when the handler wrote nothing.
func (r *Recorder) RecordStatus(code int) {
	if r.status != 0 {
		return
	}
	r.status = code
	if r.Hook != nil {
		r.Hook.Answering(r.ResponseWriter, code)
	}
}

// WriteHeader records the first status written.
func (r *Recorder) WriteHeader(code int) {
	r.RecordStatus(code)
	r.ResponseWriter.WriteHeader(code)
}

// Write records net/http's implicit 200 when no status was written, and
// keeps the start of an error body.
func (r *Recorder) Write(b []byte) (int, error) {
	r.RecordStatus(http.StatusOK)
	if r.status >= http.StatusBadRequest && len(r.body) < r.KeepErrorBody {
		r.body = append(r.body, b[:min(len(b), r.KeepErrorBody-len(r.body))]...)
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *Recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
