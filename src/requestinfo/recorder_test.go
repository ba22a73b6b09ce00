package requestinfo_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/replicasd/replicasd/src/requestinfo"
)

// hook records what Recorder told it, and sets a header as the audit
// middleware does, to show it runs before the header is written.
type hook struct{ calls []int }

func (h *hook) Answering(w http.ResponseWriter, code int) {
	h.calls = append(h.calls, code)
	w.Header().Set("X-Seen", "yes")
}

func TestRecorder(t *testing.T) {
	tests := []struct {
		name       string
		keep       int
		handler    func(w http.ResponseWriter)
		wantStatus int // recorded
		wantCode   int // written to the client
		wantBody   string
	}{
		{name: "nothing written", handler: func(http.ResponseWriter) {}, wantStatus: 0, wantCode: http.StatusOK},
		{name: "write implies 200", handler: func(w http.ResponseWriter) { _, _ = w.Write([]byte("ok")) }, wantStatus: http.StatusOK, wantCode: http.StatusOK},
		{
			name: "first status wins",
			handler: func(w http.ResponseWriter) {
				w.WriteHeader(http.StatusForbidden)
				w.WriteHeader(http.StatusOK)
			},
			wantStatus: http.StatusForbidden, wantCode: http.StatusForbidden,
		},
		{
			name: "error body kept up to the limit",
			keep: 4,
			handler: func(w http.ResponseWriter) {
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte("ab"))
				_, _ = w.Write([]byte("cdef"))
			},
			wantStatus: http.StatusNotFound, wantCode: http.StatusNotFound, wantBody: "abcd",
		},
		{name: "success body not kept", keep: 4, handler: func(w http.ResponseWriter) { _, _ = w.Write([]byte("abc")) }, wantStatus: http.StatusOK, wantCode: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &hook{}
			rec := httptest.NewRecorder()
			r := &requestinfo.Recorder{ResponseWriter: rec, Hook: h, KeepErrorBody: tt.keep}
			tt.handler(r)
			if r.Status() != tt.wantStatus || rec.Code != tt.wantCode {
				t.Errorf("recorded %d, wrote %d; want %d, %d", r.Status(), rec.Code, tt.wantStatus, tt.wantCode)
			}
			if got := string(r.Body()); got != tt.wantBody {
				t.Errorf("kept body %q, want %q", got, tt.wantBody)
			}
			if tt.wantStatus != 0 && (len(h.calls) != 1 || h.calls[0] != tt.wantStatus || rec.Result().Header.Get("X-Seen") != "yes") {
				t.Errorf("hook calls %v, header written %q; want one call with %d before the header", h.calls, rec.Result().Header.Get("X-Seen"), tt.wantStatus)
			}
			if tt.wantStatus == 0 && len(h.calls) != 0 {
				t.Errorf("hook called %v with nothing written", h.calls)
			}
		})
	}
}

func TestRecorderRecordStatus(t *testing.T) {
	h := &hook{}
	r := &requestinfo.Recorder{ResponseWriter: httptest.NewRecorder(), Hook: h}
	r.RecordStatus(http.StatusOK)
	r.RecordStatus(http.StatusTeapot)
	if r.Status() != http.StatusOK || len(h.calls) != 1 {
		t.Errorf("status %d after hook calls %v; want 200 after one", r.Status(), h.calls)
	}
}

// flushWriter is a ResponseWriter that can flush, as net/http's are.
type flushWriter struct {
	*httptest.ResponseRecorder
	flushed bool
}

func (f *flushWriter) FlushError() error { f.flushed = true; return nil }

// TestRecorderUnwraps checks that http.ResponseController reaches the
// connection's writer through the Recorder, for flushing, deadlines and
// hijacking.
func TestRecorderUnwraps(t *testing.T) {
	fw := &flushWriter{ResponseRecorder: httptest.NewRecorder()}
	r := &requestinfo.Recorder{ResponseWriter: fw}
	if err := http.NewResponseController(r).Flush(); err != nil || !fw.flushed {
		t.Errorf("Flush through the Recorder: %v, flushed %v", err, fw.flushed)
	}
	if err := http.NewResponseController(r).EnableFullDuplex(); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("EnableFullDuplex = %v, want not supported, as the writer underneath", err)
	}
}
