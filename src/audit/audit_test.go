package audit_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/replicasd/replicasd/src/audit"
	"github.com/replicasd/replicasd/src/audit/audittest"
	"github.com/replicasd/replicasd/src/handshakes"
	"github.com/replicasd/replicasd/src/identity"
	"github.com/replicasd/replicasd/src/requestinfo"
	"github.com/replicasd/replicasd/src/testkit"
)

var alice = identity.Identity{User: "alice", Groups: []string{"sre"}, Serial: "1f", Issuer: "CN=test-ca"}

func int32p(n int32) *int32 { return &n }

var generatedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// noID is TestMiddleware's wantID for an answer without X-Request-ID.
const noID = "-"

func TestMiddleware(t *testing.T) {
	type response struct {
		status int
		body   string
	}
	tests := []struct {
		name      string
		reads     bool
		method    string
		path      string
		requestID string
		// handle fills the Info as the api package and the refusing
		// middleware do, and answers.
		handle    func(info *requestinfo.Info) response
		wantEvent *audit.Event // nil: no event
		wantID    string       // "": a generated one; noID: no X-Request-ID
	}{
		{
			name: "write", method: "PUT", path: "/api/v1/namespaces/shop/deployments/web/replicas", requestID: "abc-123",
			handle: func(info *requestinfo.Info) response {
				info.Verb, info.Namespace, info.Name = "scale", "shop", "web"
				info.ReplicasBefore, info.ReplicasAfter = int32p(2), int32p(5)
				info.ResourceVersionBefore, info.ResourceVersionAfter = "10", "11"
				return response{200, `{"message":"Replica count updated successfully."}`}
			},
			wantID: "abc-123",
			wantEvent: &audit.Event{
				Kind: "request", Method: "PUT", Path: "/api/v1/namespaces/shop/deployments/web/replicas",
				Verb: "scale", Namespace: "shop", Name: "web",
				Replicas:        &audit.ReplicasChange{Before: int32p(2), After: int32p(5)},
				ResourceVersion: &audit.VersionChange{Before: "10", After: "11"},
				Outcome:         audit.Outcome{Status: 200, Reason: "OK"},
			},
		},
		{
			name: "failed write", method: "PUT", path: "/api/v1/deployments/web/replicas",
			handle: func(info *requestinfo.Info) response {
				info.Verb, info.Namespace, info.Name = "scale", "default", "web"
				info.ReplicasBefore, info.ResourceVersionBefore = int32p(2), "10"
				info.Status, info.Reason = 412, `resourceVersion is "10", not "9" from If-Match`
				return response{412, `{"error":"resourceVersion is \"10\", not \"9\" from If-Match"}`}
			},
			wantEvent: &audit.Event{
				Kind: "request", Method: "PUT", Path: "/api/v1/deployments/web/replicas",
				Verb: "scale", Namespace: "default", Name: "web",
				Replicas:        &audit.ReplicasChange{Before: int32p(2)},
				ResourceVersion: &audit.VersionChange{Before: "10"},
				Outcome:         audit.Outcome{Status: 412, Reason: "Precondition Failed", Message: `resourceVersion is "10", not "9" from If-Match`},
			},
		},
		{
			name: "403 from a middleware that leaves the reason out", method: "PUT", path: "/api/v1/deployments/web/replicas",
			handle: func(info *requestinfo.Info) response {
				info.Verb, info.Namespace, info.Name = "scale", "default", "web"
				return response{403, `{"error":"alice may not scale deployments in default"}`}
			},
			wantEvent: &audit.Event{
				Kind: "request", Method: "PUT", Path: "/api/v1/deployments/web/replicas",
				Verb: "scale", Namespace: "default", Name: "web",
				Outcome: audit.Outcome{Status: 403, Reason: "Forbidden", Message: "alice may not scale deployments in default"},
			},
		},
		{
			name: "refused read", method: "GET", path: "/api/v1/deployments",
			handle: func(info *requestinfo.Info) response {
				info.Verb = "list"
				info.Status, info.Reason = 403, "alice may not list deployments"
				return response{403, `{"error":"alice may not list deployments"}`}
			},
			wantEvent: &audit.Event{
				Kind: "request", Method: "GET", Path: "/api/v1/deployments", Verb: "list",
				Outcome: audit.Outcome{Status: 403, Reason: "Forbidden", Message: "alice may not list deployments"},
			},
		},
		{
			name: "rate limited read", method: "GET", path: "/api/v1/deployments/web/replicas", requestID: "bad id\r\nX-Evil: 1",
			handle: func(info *requestinfo.Info) response {
				info.Verb, info.Namespace, info.Name = "get", "default", "web"
				return response{429, `{"error":"too many requests from CN=alice,O=sre; retry after 1s"}`}
			},
			wantEvent: &audit.Event{
				Kind: "request", Method: "GET", Path: "/api/v1/deployments/web/replicas",
				Verb: "get", Namespace: "default", Name: "web",
				Outcome: audit.Outcome{Status: 429, Reason: "Too Many Requests", Message: "too many requests from CN=alice,O=sre; retry after 1s"},
			},
		},
		{
			name: "read is not audited by default, and gets no generated ID", method: "GET", path: "/api/v1/deployments",
			handle: func(info *requestinfo.Info) response {
				info.Verb = "list"
				return response{200, `[]`}
			},
			wantID: noID,
		},
		{
			name: "an unaudited read still echoes the client's ID", method: "GET", path: "/api/v1/deployments", requestID: "trace-7",
			handle: func(info *requestinfo.Info) response {
				info.Verb = "list"
				return response{404, `{"error":"no such namespace"}`}
			},
			wantID: "trace-7",
		},
		{
			name: "an unusable client ID on an unaudited read is dropped", method: "GET", path: "/api/v1/deployments", requestID: "bad id",
			handle: func(info *requestinfo.Info) response {
				info.Verb = "list"
				return response{200, `[]`}
			},
			wantID: noID,
		},
		{
			name: "audited read without a client ID gets a generated one", reads: true, method: "GET", path: "/api/v1/deployments",
			handle: func(info *requestinfo.Info) response {
				info.Verb = "list"
				return response{200, `[]`}
			},
			wantEvent: &audit.Event{
				Kind: "request", Method: "GET", Path: "/api/v1/deployments", Verb: "list",
				Outcome: audit.Outcome{Status: 200, Reason: "OK"},
			},
		},
		{
			name: "read is audited with --audit-reads", reads: true, method: "GET", path: "/api/v1/deployments", requestID: "r-1",
			handle: func(info *requestinfo.Info) response {
				info.Verb = "list"
				return response{200, `[]`}
			},
			wantID: "r-1",
			wantEvent: &audit.Event{
				Kind: "request", Method: "GET", Path: "/api/v1/deployments", Verb: "list",
				Outcome: audit.Outcome{Status: 200, Reason: "OK"},
			},
		},
		{
			name: "other methods are write attempts", method: "DELETE", path: "/api/v1/deployments/web/replicas",
			handle: func(info *requestinfo.Info) response {
				return response{405, `{"error":"method DELETE is not allowed on this path; allowed: GET, PUT"}`}
			},
			wantEvent: &audit.Event{
				Kind: "request", Method: "DELETE", Path: "/api/v1/deployments/web/replicas",
				Outcome: audit.Outcome{Status: 405, Reason: "Method Not Allowed", Message: "method DELETE is not allowed on this path; allowed: GET, PUT"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out testkit.Buffer
			l := audit.New(&out, nil, audit.Options{Reads: tt.reads})
			defer l.Close()
			handler := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				res := tt.handle(requestinfo.FromRequest(r))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(res.status)
				_, _ = w.Write([]byte(res.body))
			}))
			r := httptest.NewRequest(tt.method, tt.path+"?namespace=x", nil)
			r.RemoteAddr = "192.0.2.7:40000"
			if tt.requestID != "" {
				r.Header.Set("X-Request-ID", tt.requestID)
			}
			r = r.WithContext(identity.With(r.Context(), alice))
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, r)
			l.Flush()

			echoed := rec.Header().Get("X-Request-ID")
			switch {
			case tt.wantID == noID:
				if _, set := rec.Header()["X-Request-Id"]; set {
					t.Errorf("X-Request-ID = %q, want none", echoed)
				}
			case tt.wantID == "":
				if !generatedID.MatchString(echoed) {
					t.Errorf("X-Request-ID = %q, want a generated one", echoed)
				}
			case echoed != tt.wantID:
				t.Errorf("X-Request-ID = %q, want %q", echoed, tt.wantID)
			}
			events := audittest.Decode(t, out.Bytes())
			if tt.wantEvent == nil {
				if len(events) != 0 {
					t.Fatalf("events = %s, want none", audittest.String(events))
				}
				return
			}
			if len(events) != 1 {
				t.Fatalf("events = %s, want one", audittest.String(events))
			}
			got := events[0]
			if got.Time.IsZero() || got.LatencySeconds <= 0 {
				t.Errorf("time %v, latency %v: want both set", got.Time, got.LatencySeconds)
			}
			want := *tt.wantEvent
			want.Time, want.LatencySeconds = got.Time, got.LatencySeconds
			want.RequestID, want.RemoteAddr, want.Client = echoed, "192.0.2.7:40000", &alice
			if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Errorf("event\n got %s\nwant %s", g, w)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandshakeEvent(t *testing.T) {
	var out testkit.Buffer
	l := audit.New(&out, nil, audit.Options{})
	defer l.Close()
	w := handshakes.New(nil, l.LogHandshake)
	w.ErrorLog().Printf("http: TLS handshake error from 198.51.100.4:5555: tls: failed to verify certificate: x509: certificate signed by unknown authority")
	l.Flush()
	events := audittest.Decode(t, out.Bytes())
	if len(events) != 1 {
		t.Fatalf("events = %s, want one", audittest.String(events))
	}
	ev := events[0]
	want := audit.Outcome{Status: 0, Reason: "unknown_authority", Message: "tls: failed to verify certificate: x509: certificate signed by unknown authority"}
	if ev.Kind != "tlsHandshake" || ev.RemoteAddr != "198.51.100.4:5555" || ev.Outcome != want ||
		ev.Client != nil || !generatedID.MatchString(ev.RequestID) || ev.Time.IsZero() {
		t.Errorf("event = %s", audittest.String(events))
	}
}

func TestOpenAppendsToAPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	for i, id := range []string{"first", "second"} {
		l, err := audit.Open(path, audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		l.LogHandshake(handshakes.Failure{RemoteAddr: "192.0.2.1:1", Reason: "other", Error: id})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		events := audittest.Decode(t, data)
		if len(events) != i+1 || events[i].Outcome.Message != id {
			t.Fatalf("after %d opens the file holds %s", i+1, audittest.String(events))
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %v, want 0600", mode)
	}
	if _, err := audit.Open(filepath.Join(t.TempDir(), "missing", "audit.log"), audit.Options{}); err == nil ||
		!strings.Contains(err.Error(), "opening the audit log") {
		t.Errorf("Open in a missing directory: %v", err)
	}
}

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
	out     testkit.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.started) })
	<-w.release
	return w.out.Write(p)
}

func TestLogNeverWaitsForTheStream(t *testing.T) {
	w := &blockingWriter{started: make(chan struct{}), release: make(chan struct{})}
	var drops atomic.Int32
	line := len(mustJSON(t, handshakeEvent("x"))) + 1
	l := audit.New(w, nil, audit.Options{MaxBuffer: 3 * line, OnDrop: func() { drops.Add(1) }})
	defer l.Close()

	l.Log(handshakeEvent("x")) // taken by the writer, which then blocks
	<-w.started
	const n = 10
	for range n {
		l.Log(handshakeEvent("x")) // must return although the stream is stuck
	}
	if got := drops.Load(); got != n-3 {
		t.Errorf("dropped %d events, want %d (the buffer holds 3)", got, n-3)
	}
	close(w.release)
	l.Flush()
	if events := audittest.Decode(t, w.out.Bytes()); len(events) != 4 {
		t.Errorf("wrote %d events, want 4", len(events))
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsCountAsDrops(t *testing.T) {
	var drops atomic.Int32
	var logs testkit.Buffer
	l := audit.New(failingWriter{}, nil, audit.Options{OnDrop: func() { drops.Add(1) }, Logger: newLogger(&logs)})
	for range 3 {
		l.Log(handshakeEvent("x"))
	}
	l.Flush()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := drops.Load(); got != 3 {
		t.Errorf("dropped %d events, want 3", got)
	}
	if !strings.Contains(string(logs.Bytes()), "writing audit events failed") || !strings.Contains(string(logs.Bytes()), "disk full") {
		t.Errorf("the failure was not logged: %s", logs.Bytes())
	}
	l.Log(handshakeEvent("after close")) // dropped, not a panic
	if got := drops.Load(); got != 4 {
		t.Errorf("an event after Close: %d drops, want 4", got)
	}
}

func handshakeEvent(msg string) *audit.Event {
	return &audit.Event{Kind: audit.KindTLSHandshake, RequestID: "0123456789abcdef0123456789abcdef", RemoteAddr: "192.0.2.1:1",
		Outcome: audit.Outcome{Reason: "other", Message: msg}}
}

// TestMiddlewareImplicitOK covers a handler that writes nothing: net/http
// answers 200 after it, and an audited request still gets its ID.
func TestMiddlewareImplicitOK(t *testing.T) {
	var out testkit.Buffer
	l := audit.New(&out, nil, audit.Options{})
	defer l.Close()
	handler := l.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("PUT", "/api/v1/deployments/web/replicas", nil))
	l.Flush()
	id := rec.Header().Get("X-Request-ID")
	if !generatedID.MatchString(id) {
		t.Errorf("X-Request-ID = %q, want a generated one", id)
	}
	events := audittest.Decode(t, out.Bytes())
	if len(events) != 1 || events[0].RequestID != id || events[0].Outcome.Status != 200 {
		t.Errorf("events = %s, want one with status 200 and request ID %q", audittest.String(events), id)
	}
}

// TestMiddlewareAnswersCountsAndAuditsAPanic: a handler that panics gets
// its request answered 500 with the error envelope, counted, logged once
// with its stack, and audited, GETs included.
func TestMiddlewareAnswersCountsAndAuditsAPanic(t *testing.T) {
	for _, method := range []string{"PUT", "GET"} {
		t.Run(method, func(t *testing.T) {
			var out, logs testkit.Buffer
			var panics atomic.Int32
			l := audit.New(&out, nil, audit.Options{OnPanic: func() { panics.Add(1) }, Logger: newLogger(&logs)})
			defer l.Close()
			srv := httptest.NewServer(l.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				info := requestinfo.From(r.Context())
				info.Verb, info.Namespace, info.Name = "scale", "default", "web"
				panic("a bug in the handler")
			})))
			defer srv.Close()
			req, _ := http.NewRequest(method, srv.URL+"/api/v1/deployments/web/replicas", nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("%s: %v, want a 500 answer", method, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 500 || strings.TrimSpace(string(body)) != `{"error":"internal server error"}` ||
				resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("answer = %d %q (%s), want 500 with the error envelope", resp.StatusCode, body, resp.Header.Get("Content-Type"))
			}
			l.Flush()
			events := audittest.Decode(t, out.Bytes())
			if len(events) != 1 || events[0].Outcome.Status != 500 || events[0].Outcome.Message != "internal server error" ||
				events[0].Name != "web" || events[0].RequestID != resp.Header.Get("X-Request-ID") {
				t.Errorf("events = %s, want one 500 for web with the answer's request ID", audittest.String(events))
			}
			if panics.Load() != 1 {
				t.Errorf("panics counted = %d, want 1", panics.Load())
			}
			if n := strings.Count(string(logs.Bytes()), "API handler panicked"); n != 1 ||
				!strings.Contains(string(logs.Bytes()), "a bug in the handler") || !strings.Contains(string(logs.Bytes()), "goroutine") {
				t.Errorf("log = %s, want one line with the panic and its stack", logs.Bytes())
			}
		})
	}
}

// TestEventCarriesTheRequestedCount: a PUT refused or failed after its body
// was read says in its event what count it asked for.
func TestEventCarriesTheRequestedCount(t *testing.T) {
	var out testkit.Buffer
	l := audit.New(&out, nil, audit.Options{})
	defer l.Close()
	handler := l.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestinfo.From(r.Context())
		info.Verb, info.Namespace, info.Name = "scale", "default", "web"
		requested := int64(5000)
		info.ReplicasRequested = &requested
		info.Status, info.Reason = 400, "replicaCount 5000 is above the maximum of 1000 (--max-replicas)"
		w.WriteHeader(400)
	}))
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", "/api/v1/deployments/web/replicas", nil))
	l.Flush()
	events := audittest.Decode(t, out.Bytes())
	if len(events) != 1 || events[0].Replicas == nil || events[0].Replicas.Requested == nil || *events[0].Replicas.Requested != 5000 {
		t.Errorf("events = %s, want replicas.requested 5000", audittest.String(events))
	}
}
