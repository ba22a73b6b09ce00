package metrics_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/metrics"
	"github.com/replicasd/replicasd/src/requestinfo"
	"github.com/replicasd/replicasd/src/testkit"
	"github.com/replicasd/replicasd/src/version"
)

func newMetrics(t *testing.T) (*metrics.Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return metrics.New(reg), reg
}

// value returns the value of the series name{labels}, failing the test when
// it does not exist. labels are "key=value" pairs.
func value(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	v, ok := lookup(t, reg, name, labels...)
	if !ok {
		t.Fatalf("no series %s%v", name, labels)
	}
	return v
}

// lookup returns the value of a counter or gauge, or the sample count of a
// histogram.
func lookup(t *testing.T, reg *prometheus.Registry, name string, labels ...string) (float64, bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return testkit.Sample(f, labels...)
		}
	}
	return 0, false
}

func TestEveryNameIsPrefixedAndLintClean(t *testing.T) {
	m, reg := newMetrics(t)
	m.RegisterCacheSynced(func() bool { return true })
	m.RegisterReady(func() error { return nil })
	m.RegisterCertificates(fakeCerts{server: time.Now(), ca: time.Now()})
	// Create a series of every vector.
	m.TLSHandshakeFailed("other")
	m.CertReloaded("success")
	m.Observer().OnAdd(&deployments.Deployment{Namespace: "a"}, true)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) < 10 {
		t.Fatalf("only %d metric families", len(families))
	}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "replicasd_") {
			t.Errorf("metric %s lacks the replicasd_ prefix", f.GetName())
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestBuildInfo(t *testing.T) {
	_, reg := newMetrics(t)
	info := version.Get()
	if v := value(t, reg, "replicasd_build_info", "version="+info.Version, "revision="+info.Revision, "goversion="+runtime.Version()); v != 1 {
		t.Errorf("build_info = %v, want 1", v)
	}
}

func TestHTTPMetrics(t *testing.T) {
	m, reg := newMetrics(t)
	release := make(chan struct{})
	entered := make(chan struct{})
	router := mux.NewRouter()
	router.Use(metrics.RouteMiddleware)
	router.HandleFunc("/api/v1/deployments/{name}/replicas", func(w http.ResponseWriter, r *http.Request) {
		info := requestinfo.From(r.Context())
		info.Verb = requestinfo.VerbScale
		if r.Header.Get("Refuse") != "" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if r.Header.Get("Block") != "" {
			entered <- struct{}{}
			<-release
		}
		_, _ = w.Write([]byte("{}")) // implicit 200
	}).Methods(http.MethodPut, "FOO")
	handler := m.Middleware(router)

	serve := func(method, path string, headers ...string) int {
		r := httptest.NewRequest(method, path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		return rec.Code
	}

	const tpl = "/api/v1/deployments/{name}/replicas"
	for _, name := range []string{"a", "b", "c"} {
		serve("PUT", "/api/v1/deployments/"+name+"/replicas")
	}
	serve("PUT", "/api/v1/deployments/a/replicas", "Refuse", "1")
	serve("GET", "/no/such/path")
	serve("FOO", "/api/v1/deployments/a/replicas")

	for _, tt := range []struct {
		labels []string
		want   float64
	}{
		{[]string{"route=" + tpl, "method=PUT", "code=200"}, 3},
		{[]string{"route=" + tpl, "method=PUT", "code=403"}, 1},
		{[]string{"route=unmatched", "method=GET", "code=404"}, 1},
		{[]string{"route=" + tpl, "method=OTHER", "code=200"}, 1},
	} {
		if got := value(t, reg, "replicasd_http_requests_total", tt.labels...); got != tt.want {
			t.Errorf("http_requests_total%v = %v, want %v", tt.labels, got, tt.want)
		}
	}
	if got := value(t, reg, "replicasd_http_request_duration_seconds", "route="+tpl, "method=PUT"); got != 4 {
		t.Errorf("http_request_duration_seconds count = %v, want 4", got)
	}
	if got := value(t, reg, "replicasd_scale_operations_total", "result=forbidden"); got != 1 {
		t.Errorf("scale_operations_total{result=forbidden} = %v, want 1 (the refused PUT)", got)
	}
	for _, series := range []string{"/api/v1/deployments/a/replicas", "/no/such/path"} {
		if _, ok := lookup(t, reg, "replicasd_http_requests_total", "route="+series, "method=GET", "code=404"); ok {
			t.Errorf("a raw path became a route label: %s", series)
		}
	}

	if got := value(t, reg, "replicasd_http_requests_in_flight"); got != 0 {
		t.Errorf("in flight before = %v", got)
	}
	done := make(chan struct{})
	go func() { serve("PUT", "/api/v1/deployments/a/replicas", "Block", "1"); close(done) }()
	<-entered
	if got := value(t, reg, "replicasd_http_requests_in_flight"); got != 1 {
		t.Errorf("in flight during a request = %v, want 1", got)
	}
	close(release)
	<-done
	if got := value(t, reg, "replicasd_http_requests_in_flight"); got != 0 {
		t.Errorf("in flight after = %v, want 0", got)
	}
}

func TestObserver(t *testing.T) {
	m, reg := newMetrics(t)
	obs := m.Observer()
	dep := func(ns, name string) *deployments.Deployment {
		return &deployments.Deployment{Namespace: ns, Name: name}
	}
	before := float64(time.Now().Unix())
	obs.OnAdd(dep("a", "x"), true)
	obs.OnAdd(dep("a", "y"), true)
	obs.OnAdd(dep("b", "x"), false)
	obs.OnUpdate(dep("a", "x"), dep("a", "x"))
	obs.OnDelete(dep("a", "y"))
	obs.OnWatchError("a", errors.New("connection refused"))
	obs.OnWatchError("", errors.New("forbidden"))

	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"replicasd_cache_deployments", []string{"namespace=a"}, 1},
		{"replicasd_cache_deployments", []string{"namespace=b"}, 1},
		{"replicasd_informer_events_total", []string{"type=add"}, 3},
		{"replicasd_informer_events_total", []string{"type=update"}, 1},
		{"replicasd_informer_events_total", []string{"type=delete"}, 1},
		{"replicasd_informer_watch_errors_total", nil, 2},
	} {
		if got := value(t, reg, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if got := value(t, reg, "replicasd_informer_last_event_timestamp_seconds"); got < before || got > float64(time.Now().Unix()+1) {
		t.Errorf("informer_last_event_timestamp_seconds = %v, want about now (%v)", got, before)
	}
}

func TestReady(t *testing.T) {
	m, reg := newMetrics(t)
	var err atomic.Pointer[error]
	notYet := errors.New("cache not synced")
	err.Store(&notYet)
	m.RegisterReady(func() error { return *err.Load() })
	if got := value(t, reg, "replicasd_ready"); got != 0 {
		t.Errorf("ready while not ready = %v, want 0", got)
	}
	var none error
	err.Store(&none)
	if got := value(t, reg, "replicasd_ready"); got != 1 {
		t.Errorf("ready when ready = %v, want 1", got)
	}
}

func TestCacheSynced(t *testing.T) {
	m, reg := newMetrics(t)
	var synced atomic.Bool
	m.RegisterCacheSynced(synced.Load)
	if got := value(t, reg, "replicasd_cache_synced"); got != 0 {
		t.Errorf("cache_synced before sync = %v, want 0", got)
	}
	synced.Store(true)
	if got := value(t, reg, "replicasd_cache_synced"); got != 1 {
		t.Errorf("cache_synced after sync = %v, want 1", got)
	}
}

type fakeStore struct{ err error }

func (s fakeStore) Get(namespace, name string) (*deployments.Deployment, error) {
	return &deployments.Deployment{}, s.err
}

func (s fakeStore) List(string, labels.Selector) ([]*deployments.Deployment, error) {
	return nil, s.err
}

func (fakeStore) WaitForNamespaceResourceVersion(context.Context, string, string) error { return nil }

func TestCountReads(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want float64
	}{
		{name: "answers", want: 4},
		{name: "not found is an answer from the cache", err: deployments.NotFound("a", "b"), want: 4},
		{name: "not synced is not", err: deployments.NotSynced(), want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newMetrics(t)
			store := m.CountReads(fakeStore{err: tt.err})
			for range 2 {
				_, _ = store.Get("a", "b")
				_, _ = store.List("a", labels.Everything())
			}
			_ = store.WaitForNamespaceResourceVersion(context.Background(), "a", "1")
			if got := value(t, reg, "replicasd_cache_reads_total"); got != tt.want {
				t.Errorf("cache_reads_total = %v, want %v", got, tt.want)
			}
		})
	}
}

type fakeScaler struct {
	res deployments.ScaleResult
	err error
}

func (s fakeScaler) Scale(context.Context, string, string, int32, deployments.IfMatch) (deployments.ScaleResult, error) {
	return s.res, s.err
}

func TestCountScales(t *testing.T) {
	cached := &deployments.Deployment{}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments/scale"}, "web", errors.New("RBAC"))
	tests := []struct {
		name        string
		scaler      fakeScaler
		want        string
		wantWait    bool
		wantTimeout bool
	}{
		{name: "updated", scaler: fakeScaler{res: deployments.ScaleResult{Changed: true, Deployment: cached}}, want: "updated", wantWait: true},
		{name: "updated, no cached object", scaler: fakeScaler{res: deployments.ScaleResult{Changed: true}}, want: "updated", wantWait: true},
		{name: "noop", scaler: fakeScaler{res: deployments.ScaleResult{Deployment: cached}}, want: "noop", wantWait: true},
		{name: "conflict retried", scaler: fakeScaler{res: deployments.ScaleResult{Changed: true, Conflicts: 2, Deployment: cached}}, want: "conflict_retried", wantWait: true},
		{name: "cache too slow", scaler: fakeScaler{res: deployments.ScaleResult{Changed: true, ReadYourWritesTimedOut: true}}, want: "updated", wantWait: true, wantTimeout: true},
		{name: "precondition failed", scaler: fakeScaler{err: deployments.PreconditionFailed("a", "b", "1", "2")}, want: "precondition_failed"},
		{name: "changed since If-Match", scaler: fakeScaler{err: deployments.ChangedSinceIfMatch("a", "b", "1")}, want: "precondition_failed"},
		{name: "forbidden by RBAC", scaler: fakeScaler{err: fmt.Errorf("update: %w", forbidden)}, want: "forbidden"},
		{name: "not found", scaler: fakeScaler{err: deployments.NotFound("a", "b")}, want: "error"},
		{name: "server error", scaler: fakeScaler{err: apierrors.NewInternalError(errors.New("etcd"))}, want: "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newMetrics(t)
			_, _ = m.CountScales(tt.scaler).Scale(context.Background(), "a", "b", 1, deployments.IfMatch{})
			if got := value(t, reg, "replicasd_scale_operations_total", "result="+tt.want); got != 1 {
				t.Errorf("scale_operations_total{result=%q} = %v, want 1", tt.want, got)
			}
			// Every result has a series from the start; only one counted.
			total := 0.0
			for _, result := range metrics.ScaleResults {
				total += value(t, reg, "replicasd_scale_operations_total", "result="+result)
			}
			if total != 1 {
				t.Errorf("%v scale operations counted, want 1", total)
			}
			if got := value(t, reg, "replicasd_scale_read_your_writes_wait_seconds"); (got == 1) != tt.wantWait {
				t.Errorf("read-your-writes observations = %v, want them only after a success", got)
			}
			if got := value(t, reg, "replicasd_scale_read_your_writes_timeouts_total"); (got == 1) != tt.wantTimeout {
				t.Errorf("read-your-writes timeouts = %v", got)
			}
		})
	}
}

type fakeCerts struct{ server, ca time.Time }

func (c fakeCerts) ServerCertificate() *x509.Certificate {
	return &x509.Certificate{NotAfter: c.server}
}
func (c fakeCerts) ClientCAExpiry() time.Time { return c.ca }

type rotatingCerts struct{ server, ca atomic.Int64 }

func (c *rotatingCerts) ServerCertificate() *x509.Certificate {
	return &x509.Certificate{NotAfter: time.Unix(c.server.Load(), 0)}
}
func (c *rotatingCerts) ClientCAExpiry() time.Time { return time.Unix(c.ca.Load(), 0) }

func TestTLSMetrics(t *testing.T) {
	m, reg := newMetrics(t)
	m.TLSHandshakeFailed("unknown_authority")
	m.TLSHandshakeFailed("unknown_authority")
	m.TLSHandshakeFailed("no_certificate")
	m.CertReloaded("success")
	m.CertReloaded("failure")
	m.CertReloaded("failure")
	m.InitReverifyRefusals([]string{"revoked", "unknown_authority", "expired"})
	m.ReverifyRefused("revoked")
	src := &rotatingCerts{}
	src.server.Store(2000000000)
	src.ca.Store(2100000000)
	m.RegisterCertificates(src)

	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"replicasd_tls_handshake_errors_total", []string{"reason=unknown_authority"}, 2},
		{"replicasd_tls_handshake_errors_total", []string{"reason=no_certificate"}, 1},
		{"replicasd_cert_reloads_total", []string{"result=success"}, 1},
		{"replicasd_cert_reloads_total", []string{"result=failure"}, 2},
		{"replicasd_tls_reverify_refusals_total", []string{"reason=revoked"}, 1},
		{"replicasd_tls_reverify_refusals_total", []string{"reason=unknown_authority"}, 0},
		{"replicasd_tls_reverify_refusals_total", []string{"reason=expired"}, 0},
		{"replicasd_cert_expiry_timestamp_seconds", []string{"cert=server"}, 2000000000},
		{"replicasd_cert_expiry_timestamp_seconds", []string{"cert=client_ca"}, 2100000000},
	} {
		if got := value(t, reg, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	// A reload shows at the next scrape.
	src.server.Store(2200000000)
	if got := value(t, reg, "replicasd_cert_expiry_timestamp_seconds", "cert=server"); got != 2200000000 {
		t.Errorf("after a reload, server expiry = %v", got)
	}
}

func TestAuditEventDropped(t *testing.T) {
	m, reg := newMetrics(t)
	m.AuditEventDropped()
	if got := value(t, reg, "replicasd_audit_events_dropped_total"); got != 1 {
		t.Errorf("audit_events_dropped_total = %v, want 1", got)
	}
}

// TestFreshMetricsHaveEveryKnownLabelAtZero: before any event, each label
// value known in advance already has its series, at 0, so that rate() and
// absent() work from the first scrape.
func TestFreshMetricsHaveEveryKnownLabelAtZero(t *testing.T) {
	_, reg := newMetrics(t)
	want := map[string][]string{
		"replicasd_tls_handshake_errors_total": {"no_certificate", "unknown_authority", "expired", "bad_usage", "protocol", "other"},
		"replicasd_scale_operations_total":     {"updated", "noop", "precondition_failed", "conflict_retried", "forbidden", "error"},
		"replicasd_cert_reloads_total":         {"success", "failure"},
		"replicasd_informer_events_total":      {"add", "update", "delete"},
	}
	labelOf := map[string]string{
		"replicasd_tls_handshake_errors_total": "reason",
		"replicasd_scale_operations_total":     "result",
		"replicasd_cert_reloads_total":         "result",
		"replicasd_informer_events_total":      "type",
	}
	for name, values := range want {
		for _, v := range values {
			if got, ok := lookup(t, reg, name, labelOf[name]+"="+v); !ok || got != 0 {
				t.Errorf("%s{%s=%q} = %v (present %v), want 0", name, labelOf[name], v, got, ok)
			}
		}
	}
	if got, ok := lookup(t, reg, "replicasd_http_handler_panics_total"); !ok || got != 0 {
		t.Errorf("replicasd_http_handler_panics_total = %v (present %v), want 0", got, ok)
	}
}

func TestInitRoutesAndNamespacesCreateTheirSeries(t *testing.T) {
	m, reg := newMetrics(t)
	m.InitRoutes([]metrics.Route{{Template: "/api/v1/deployments", Method: "GET"}, {Template: "/api/v1/deployments/{name}/replicas", Method: "PUT"}})
	m.InitNamespaces([]string{"quiet"})
	for _, rt := range [][2]string{{"/api/v1/deployments", "GET"}, {"/api/v1/deployments/{name}/replicas", "PUT"}} {
		for _, code := range []string{"200", "500", "502", "503", "504"} {
			if got, ok := lookup(t, reg, "replicasd_http_requests_total", "route="+rt[0], "method="+rt[1], "code="+code); !ok || got != 0 {
				t.Errorf("requests %v %s = %v (present %v), want 0", rt, code, got, ok)
			}
		}
		if got, ok := lookup(t, reg, "replicasd_http_request_duration_seconds", "route="+rt[0], "method="+rt[1]); !ok || got != 0 {
			t.Errorf("duration %v = %v (present %v), want an empty histogram", rt, got, ok)
		}
	}
	if got, ok := lookup(t, reg, "replicasd_cache_deployments", "namespace=quiet"); !ok || got != 0 {
		t.Errorf("cache_deployments{namespace=quiet} = %v (present %v), want 0", got, ok)
	}
}

// TestHTTPMetricsRecordThroughAnOuterRecorder checks that the middleware
// records through the requestinfo.Recorder an outer middleware (audit)
// hands it, rather than wrapping the writer a second time.
func TestHTTPMetricsRecordThroughAnOuterRecorder(t *testing.T) {
	m, reg := newMetrics(t)
	outer := &requestinfo.Recorder{ResponseWriter: httptest.NewRecorder()}
	var seen http.ResponseWriter
	m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		seen = w
		w.WriteHeader(http.StatusTooManyRequests)
	})).ServeHTTP(outer, httptest.NewRequest(http.MethodGet, "/", nil))
	if seen != http.ResponseWriter(outer) {
		t.Errorf("handler got %T %p, want the outer Recorder %p", seen, seen, outer)
	}
	if got := value(t, reg, "replicasd_http_requests_total", "route=unmatched", "method=GET", "code=429"); got != 1 {
		t.Errorf("http_requests_total{code=429} = %v, want 1", got)
	}
}
