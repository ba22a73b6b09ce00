package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/testkit"
)

// fakeStore is an in-memory Store. err, when set, is returned by Get and
// List; waitFn, when set, replaces WaitForResourceVersion.
type fakeStore struct {
	mu       sync.Mutex
	deps     map[string]*deployments.Deployment // "ns/name"
	err      error
	waitFn   func(ctx context.Context, rv string) error
	waitRVs  []string
	listNS   []string
	listSels []string
	gets     int
}

func newFakeStore(ds ...*deployments.Deployment) *fakeStore {
	s := &fakeStore{deps: map[string]*deployments.Deployment{}}
	for _, d := range ds {
		s.deps[d.Namespace+"/"+d.Name] = d
	}
	return s
}

func (s *fakeStore) Get(namespace, name string) (*deployments.Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	if s.err != nil {
		return nil, s.err
	}
	d, ok := s.deps[namespace+"/"+name]
	if !ok {
		return nil, deployments.NotFound(namespace, name)
	}
	return d, nil
}

func (s *fakeStore) List(namespace string, selector labels.Selector) ([]*deployments.Deployment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listNS = append(s.listNS, namespace)
	s.listSels = append(s.listSels, selector.String())
	if s.err != nil {
		return nil, s.err
	}
	var out []*deployments.Deployment
	for _, d := range s.deps {
		if (namespace == "" || d.Namespace == namespace) && selector.Matches(d.Labels) {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func (s *fakeStore) WaitForNamespaceResourceVersion(ctx context.Context, namespace, rv string) error {
	s.mu.Lock()
	s.waitRVs = append(s.waitRVs, namespace+"/"+rv)
	fn := s.waitFn
	s.mu.Unlock()
	if fn != nil {
		return fn(ctx, rv)
	}
	return nil
}

// scaleCall is one recorded Scale call.
type scaleCall struct {
	Namespace, Name string
	Replicas        int32
	IfMatch         deployments.IfMatch
}

// fakeScaler records calls and answers with result (Replicas and names
// filled from the call) or err.
type fakeScaler struct {
	mu    sync.Mutex
	calls []scaleCall
	err   error
	rv    string
	noop  bool
	// lagging answers as a Scale whose write the cache did not show in time.
	lagging bool
}

func (s *fakeScaler) Scale(_ context.Context, namespace, name string, replicas int32, ifMatch deployments.IfMatch) (deployments.ScaleResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, scaleCall{namespace, name, replicas, ifMatch})
	if s.err != nil {
		return deployments.ScaleResult{}, s.err
	}
	return deployments.ScaleResult{
		Namespace: namespace, Name: name, Replicas: replicas,
		ResourceVersion: s.rv, Changed: !s.noop,
		ReadYourWritesTimedOut: s.lagging, ReadYourWritesWait: 5 * time.Second,
	}, nil
}

func (s *fakeScaler) Calls() []scaleCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]scaleCall(nil), s.calls...)
}

type fakeHealth struct{ err error }

func (h fakeHealth) Check() error { return h.err }

// fixture is a handler with its fakes and a captured log.
type fixture struct {
	store   *fakeStore
	scaler  *fakeScaler
	health  *fakeHealth
	handler http.Handler
	logs    *testkit.Buffer
}

var created = metav1.NewTime(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))

func int32p(n int32) *int32 { return &n }

// deployment builds a cached Deployment with fixed status numbers.
func deployment(ns, name string, replicas *int32, rv string, lbls map[string]string) *deployments.Deployment {
	return deployments.FromAPI(apiDeployment(ns, name, replicas, rv, lbls))
}

// apiDeployment is the API object deployment caches.
func apiDeployment(ns, name string, replicas *int32, rv string, lbls map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, ResourceVersion: rv, Labels: lbls, CreationTimestamp: created,
		},
		Spec:   appsv1.DeploymentSpec{Replicas: replicas},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, AvailableReplicas: 1, UpdatedReplicas: 3},
	}
}

// standardDeployments is the fixture's cache content.
func standardDeployments() []*deployments.Deployment {
	noTimestamp := deployment("default", "unset", nil, "12", nil)
	noTimestamp.CreationUnix = 0
	return []*deployments.Deployment{
		deployment("default", "web", int32p(3), "100", map[string]string{"app": "web", "tier": "front"}),
		deployment("default", "api", int32p(0), "101", map[string]string{"app": "api", "tier": "back"}),
		noTimestamp,
		deployment("shop", "web", int32p(5), "200", map[string]string{"app": "web", "tier": "front"}),
		deployment("alpha", "db", int32p(1), "300", map[string]string{"app": "db"}),
	}
}

func newFixture(t *testing.T, mutate ...func(*Options)) *fixture {
	t.Helper()
	f := &fixture{
		store:  newFakeStore(standardDeployments()...),
		scaler: &fakeScaler{rv: "555"},
		health: &fakeHealth{},
		logs:   &testkit.Buffer{},
	}
	opts := Options{
		Store: f.store, Scaler: f.scaler, Health: f.health,
		MaxReplicas: 100,
		Logger:      testkit.TextLogger(f.logs, slog.LevelInfo),
	}
	for _, m := range mutate {
		m(&opts)
	}
	f.handler = New(opts)
	return f
}

// request serves one request through the handler; headers are "Key", "Value"
// pairs.
func (f *fixture) request(method, target, body string, headers ...string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, r)
	return rec
}

// put sends a PUT with Content-Type application/json.
func (f *fixture) put(target, body string, headers ...string) *httptest.ResponseRecorder {
	return f.request(http.MethodPut, target, body, append([]string{"Content-Type", "application/json"}, headers...)...)
}

// checkJSONHeaders checks the headers every response carries.
func checkJSONHeaders(t *testing.T, h http.Header) {
	t.Helper()
	if got := h.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
}

// checkError checks status, headers and the error envelope: exactly one key
// "error" holding a non-empty string that contains every wantSubstr.
func checkError(t *testing.T, rec *httptest.ResponseRecorder, status int, wantSubstr ...string) string {
	t.Helper()
	return checkErrorResponse(t, rec.Code, rec.Header(), rec.Body.Bytes(), status, wantSubstr...)
}

func checkErrorResponse(t *testing.T, code int, h http.Header, body []byte, status int, wantSubstr ...string) string {
	t.Helper()
	if code != status {
		t.Errorf("status = %d, want %d; body %s", code, status, body)
	}
	checkJSONHeaders(t, h)
	var env map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", body, err)
	}
	if dec.More() {
		t.Errorf("body %q has data after the envelope", body)
	}
	if len(env) != 1 {
		t.Fatalf("envelope %s has %d keys, want exactly \"error\"", body, len(env))
	}
	var msg string
	if err := json.Unmarshal(env["error"], &msg); err != nil {
		t.Fatalf("envelope %s: \"error\" is not a string: %v", body, err)
	}
	if msg == "" {
		t.Errorf("envelope %s: empty error message", body)
	}
	for _, s := range wantSubstr {
		if !strings.Contains(msg, s) {
			t.Errorf("error message %q does not contain %q", msg, s)
		}
	}
	return msg
}

// checkBody checks a success response's status, headers and exact body.
func checkBody(t *testing.T, rec *httptest.ResponseRecorder, status int, want string) {
	t.Helper()
	if rec.Code != status {
		t.Errorf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	checkJSONHeaders(t, rec.Header())
	if got := strings.TrimSuffix(rec.Body.String(), "\n"); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	if !json.Valid(rec.Body.Bytes()) {
		t.Errorf("body %s is not valid JSON", rec.Body)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
