package app

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/replicasd/replicasd/src/audit"
	"github.com/replicasd/replicasd/src/audit/audittest"
	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/deployments/fakecluster"
	"github.com/replicasd/replicasd/src/testkit"
)

// observed is a running server whose logs (JSON, debug) and audit events
// are captured.
type observed struct {
	*harness
	cfg   *Config
	logs  *testkit.Buffer
	audit *testkit.Buffer
}

func startObserved(t *testing.T, cluster *fakecluster.Cluster, mutate func(*Config)) *observed {
	t.Helper()
	o := &observed{logs: &testkit.Buffer{}, audit: &testkit.Buffer{}}
	o.harness = startWith(t, cluster, func(c *Config) {
		c.Logger = testkit.JSONLogger(o.logs, slog.LevelDebug)
		c.AuditOutput = o.audit
		if mutate != nil {
			mutate(c)
		}
		o.cfg = c
	})
	o.waitReady(waitTimeout)
	return o
}

// stop shuts the server down, which flushes the audit stream.
func (o *observed) stop() {
	o.t.Helper()
	o.cancel()
	if err, ok := o.wait(); !ok || err != nil {
		o.t.Fatalf("Run() = %v (returned: %v)", err, ok)
	}
}

// do sends a request and returns the status and the echoed request ID.
func (o *observed) do(method, url, body string, headers ...string) (int, string) {
	o.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		o.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := o.client.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Request-ID")
}

// refusedHandshake connects with cert (nil: none) and expects the
// handshake to be refused.
func (o *observed) refusedHandshake(cert *certs.Pair) {
	o.t.Helper()
	tr := o.client.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = nil
	if cert != nil {
		tc := cert.TLSCertificate()
		tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tc, nil }
	}
	if resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(o.base + "/deployments"); err == nil {
		resp.Body.Close()
		o.t.Fatalf("a bad client got an answer: %d", resp.StatusCode)
	}
}

// scrape reads the ops port's /metrics, checking that it parses.
func scrape(t *testing.T, opsURL string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(opsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// sample returns the value of name{labels} in fams (a histogram's count),
// labels being "key=value" pairs that must match exactly.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	return testkit.Sample(fams[name], labels...)
}

func TestMetricsAuditAndLogsOfAFullRun(t *testing.T) {
	cluster, err := fakecluster.New(
		fakecluster.Deployment("default", "web", 2, map[string]string{"app": "web"}),
		fakecluster.Deployment("shop", "cart", 1, nil),
	)
	if err != nil {
		t.Fatal(err)
	}
	o := startObserved(t, cluster, nil)
	otherCA, err := certs.NewCA("other CA")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := otherCA.IssueClient("mallory", nil)
	if err != nil {
		t.Fatal(err)
	}

	const (
		list    = "/api/v1/deployments"
		nsGet   = "/api/v1/namespaces/{namespace}/deployments/{name}/replicas"
		replica = "/api/v1/deployments/{name}/replicas"
	)
	// Reads: three answered from the cache (one of them "not found").
	mustStatus(t, "list", 200)(o.do("GET", o.base+"/deployments", ""))
	mustStatus(t, "get", 200)(o.do("GET", o.base+"/namespaces/shop/deployments/cart/replicas", ""))
	mustStatus(t, "get missing", 404)(o.do("GET", o.base+"/namespaces/shop/deployments/nope/replicas", ""))
	mustStatus(t, "unknown path", 404)(o.do("GET", o.base+"/nope", ""))
	// Writes: one change, one no-op, one stale If-Match.
	code, id := o.do("PUT", o.base+"/deployments/web/replicas", `{"replicaCount": 5}`, "X-Request-ID", "e2e-1")
	if code != 200 || id != "e2e-1" {
		t.Fatalf("PUT = %d with X-Request-ID %q, want 200 echoing e2e-1", code, id)
	}
	mustStatus(t, "no-op PUT", 200)(o.do("PUT", o.base+"/deployments/web/replicas", `{"replicaCount": 5}`))
	mustStatus(t, "stale PUT", 412)(o.do("PUT", o.base+"/deployments/web/replicas", `{"replicaCount": 6}`, "If-Match", `"1"`))
	// Refused handshakes.
	o.refusedHandshake(nil)
	o.refusedHandshake(stranger)
	// A certificate rotation.
	newServer := rotateServerCert(t, o)

	var fams map[string]*dto.MetricFamily
	o.eventually(func() bool {
		fams = scrape(t, o.ops)
		v, _ := sample(fams, "replicasd_cert_reloads_total", "result=success")
		h, _ := sample(fams, "replicasd_tls_handshake_errors_total", "reason=unknown_authority")
		return v == 1 && h == 1
	})
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"replicasd_http_requests_total", []string{"route=" + list, "method=GET", "code=200"}, 1},
		{"replicasd_http_requests_total", []string{"route=" + nsGet, "method=GET", "code=200"}, 1},
		{"replicasd_http_requests_total", []string{"route=" + nsGet, "method=GET", "code=404"}, 1},
		{"replicasd_http_requests_total", []string{"route=unmatched", "method=GET", "code=404"}, 1},
		{"replicasd_http_requests_total", []string{"route=" + replica, "method=PUT", "code=200"}, 2},
		{"replicasd_http_requests_total", []string{"route=" + replica, "method=PUT", "code=412"}, 1},
		{"replicasd_http_request_duration_seconds", []string{"route=" + replica, "method=PUT"}, 3},
		{"replicasd_http_requests_in_flight", nil, 0},
		{"replicasd_tls_handshake_errors_total", []string{"reason=no_certificate"}, 1},
		{"replicasd_tls_handshake_errors_total", []string{"reason=unknown_authority"}, 1},
		{"replicasd_cache_deployments", []string{"namespace=default"}, 1},
		{"replicasd_cache_deployments", []string{"namespace=shop"}, 1},
		{"replicasd_informer_events_total", []string{"type=add"}, 2},
		{"replicasd_informer_events_total", []string{"type=update"}, 1},
		{"replicasd_informer_watch_errors_total", nil, 0},
		{"replicasd_cache_synced", nil, 1},
		{"replicasd_cache_reads_total", nil, 3},
		{"replicasd_scale_operations_total", []string{"result=updated"}, 1},
		{"replicasd_scale_operations_total", []string{"result=noop"}, 1},
		{"replicasd_scale_operations_total", []string{"result=precondition_failed"}, 1},
		{"replicasd_scale_read_your_writes_wait_seconds", nil, 2},
		{"replicasd_scale_read_your_writes_timeouts_total", nil, 0},
		{"replicasd_cert_reloads_total", []string{"result=success"}, 1},
		{"replicasd_cert_expiry_timestamp_seconds", []string{"cert=server"}, float64(newServer.Cert.NotAfter.Unix())},
		{"replicasd_audit_events_dropped_total", nil, 0},
	}
	for _, c := range checks {
		if got, ok := sample(fams, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (present: %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	for _, name := range []string{
		"replicasd_informer_last_event_timestamp_seconds", "replicasd_build_info", "go_goroutines", "process_open_fds",
	} {
		if v, ok := sample(fams, name); name != "replicasd_build_info" && (!ok || v <= 0) {
			t.Errorf("%s = %v (present: %v), want a positive value", name, v, ok)
		} else if _, ok := fams[name]; !ok {
			t.Errorf("%s is missing", name)
		}
	}
	if v, _ := sample(fams, "replicasd_cert_expiry_timestamp_seconds", "cert=client_ca"); v < float64(time.Now().Unix()) {
		t.Errorf("client CA expiry = %v, want a time in the future", v)
	}
	problems, err := testutil.GatherAndLint(o.server.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metrics lint: %s: %s", p.Metric, p.Text)
	}

	o.stop()
	events := audittest.Decode(t, o.audit.Bytes())
	requests := audittest.Find(events, func(ev audit.Event) bool { return ev.Kind == audit.KindRequest })
	if len(requests) != 3 {
		t.Fatalf("request events = %s, want the three PUTs only (reads are not audited by default)", audittest.String(requests))
	}
	write, noop, stale := requests[0], requests[1], requests[2]
	if write.RequestID != "e2e-1" || write.Verb != "scale" || write.Namespace != "default" || write.Name != "web" ||
		write.Client == nil || write.Client.User != "alice" || strings.Join(write.Client.Groups, ",") != "sre" ||
		write.Client.Serial == "" || write.Client.Issuer != "CN=test-ca" ||
		!strings.HasPrefix(write.RemoteAddr, "127.0.0.1:") || write.Outcome.Status != 200 ||
		write.Replicas == nil || *write.Replicas.Before != 2 || *write.Replicas.After != 5 ||
		write.ResourceVersion == nil || write.ResourceVersion.Before == "" || write.ResourceVersion.After == "" ||
		write.ResourceVersion.Before == write.ResourceVersion.After {
		t.Errorf("write event = %s", audittest.String([]audit.Event{write}))
	}
	if noop.Replicas == nil || *noop.Replicas.Before != 5 || *noop.Replicas.After != 5 ||
		noop.ResourceVersion.Before != write.ResourceVersion.After || noop.ResourceVersion.After != write.ResourceVersion.After {
		t.Errorf("no-op event = %s", audittest.String([]audit.Event{noop}))
	}
	if stale.Outcome.Status != 412 || stale.Outcome.Reason != "Precondition Failed" || !strings.Contains(stale.Outcome.Message, `"1"`) ||
		stale.Replicas == nil || stale.Replicas.After != nil || stale.ResourceVersion == nil || stale.ResourceVersion.After != "" {
		t.Errorf("412 event = %s", audittest.String([]audit.Event{stale}))
	}
	handshakeEvents := audittest.Find(events, func(ev audit.Event) bool { return ev.Kind == audit.KindTLSHandshake })
	if len(handshakeEvents) != 2 || handshakeEvents[0].Outcome.Reason != "no_certificate" ||
		handshakeEvents[1].Outcome.Reason != "unknown_authority" || !strings.HasPrefix(handshakeEvents[1].RemoteAddr, "127.0.0.1:") {
		t.Errorf("handshake events = %s", audittest.String(handshakeEvents))
	}

	logs := string(o.logs.Bytes())
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !strings.HasPrefix(line, `{"time":`) {
			t.Errorf("not a JSON log line: %s", line)
		}
	}
	for _, want := range []string{
		`"msg":"deployment cache sync started","namespaces":"all"`,
		`"msg":"deployment cache synced","namespaces":"all","deployments":2`,
		`"level":"DEBUG","msg":"deployment watch started"`,
		`"level":"DEBUG","msg":"TLS handshake failed","remoteAddr":"127.0.0.1:`,
		`"reason":"unknown_authority","error":"tls: failed to verify certificate: x509: certificate signed by unknown authority`,
		`"msg":"reloaded TLS files"`,
		`"msg":"stopped"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

func mustStatus(t *testing.T, what string, want int) func(int, string) {
	t.Helper()
	return func(code int, _ string) {
		t.Helper()
		if code != want {
			t.Errorf("%s: status %d, want %d", what, code, want)
		}
	}
}

// rotateServerCert writes a new server certificate from a new CA the
// clients do not need to know (they are not asked to verify it again) and
// returns it.
func rotateServerCert(t *testing.T, o *observed) *certs.Pair {
	t.Helper()
	ca, err := certs.NewCA("rotated server CA")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.IssueServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pair.WriteFiles(o.cfg.TLS.CertFile, o.cfg.TLS.KeyFile); err != nil {
		t.Fatal(err)
	}
	return pair
}

// TestRefusalsAreAuditedAndCounted: a 403 from the authorization policy and
// a 429 from the rate limit each get an audit event naming the client, and
// are counted, although neither request reached a handler.
func TestRefusalsAreAuditedAndCounted(t *testing.T) {
	cluster, err := fakecluster.New(fakecluster.Deployment("default", "web", 2, nil))
	if err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("rules:\n  - users: [alice]\n    verbs: [get, list]\n    namespaces: [\"*\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := startObserved(t, cluster, func(c *Config) {
		c.AuthorizationPolicyFile = policy
		c.ReadRateLimit, c.ReadBurst = 0.001, 1 // one read, then 429 for a long while
	})

	mustStatus(t, "scale without permission", 403)(o.do("PUT", o.base+"/deployments/web/replicas", `{"replicaCount": 3}`, "X-Request-ID", "denied-1"))
	mustStatus(t, "first read", 200)(o.do("GET", o.base+"/deployments/web/replicas", ""))
	mustStatus(t, "second read", 429)(o.do("GET", o.base+"/deployments/web/replicas", "", "X-Request-ID", "limited-1"))

	fams := scrape(t, o.ops)
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"replicasd_http_requests_total", []string{"route=/api/v1/deployments/{name}/replicas", "method=PUT", "code=403"}},
		{"replicasd_http_requests_total", []string{"route=/api/v1/deployments/{name}/replicas", "method=GET", "code=429"}},
		{"replicasd_scale_operations_total", []string{"result=forbidden"}},
	} {
		if v, ok := sample(fams, c.name, c.labels...); v != 1 {
			t.Errorf("%s%v = %v (present: %v), want 1", c.name, c.labels, v, ok)
		}
	}
	if cluster.ScaleUpdates() != 0 {
		t.Errorf("the refused PUT wrote %d times", cluster.ScaleUpdates())
	}

	o.stop()
	events := audittest.Decode(t, o.audit.Bytes())
	if len(events) != 2 {
		t.Fatalf("events = %s, want the 403 and the 429 only", audittest.String(events))
	}
	denied, limited := events[0], events[1]
	if denied.RequestID != "denied-1" || denied.Outcome.Status != 403 || denied.Outcome.Reason != "Forbidden" ||
		denied.Outcome.Message == "" || denied.Verb != "scale" || denied.Namespace != "default" || denied.Name != "web" ||
		denied.Client == nil || denied.Client.User != "alice" || denied.Replicas != nil {
		t.Errorf("403 event = %s", audittest.String(events[:1]))
	}
	if limited.RequestID != "limited-1" || limited.Outcome.Status != 429 || limited.Outcome.Reason != "Too Many Requests" ||
		limited.Outcome.Message == "" || limited.Verb != "get" || limited.Name != "web" ||
		limited.Client == nil || limited.Client.User != "alice" {
		t.Errorf("429 event = %s", audittest.String(events[1:]))
	}
}

func TestProfilingOnlyWhenAsked(t *testing.T) {
	tests := []struct {
		name      string
		profiling bool
		want      int
	}{
		{name: "off by default", want: http.StatusNotFound},
		{name: "--profiling", profiling: true, want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startReady(t, securityCluster(t), func(c *Config) { c.Profiling = tt.profiling })
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap?debug=1"} {
				resp, err := http.Get(h.ops + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, tt.want)
				}
			}
			// Never on the API port: that answers 404 in the error envelope.
			if code, _ := h.get(strings.TrimSuffix(h.base, "/api/v1") + "/debug/pprof/"); code != http.StatusNotFound {
				t.Errorf("pprof on the API port: %d, want 404", code)
			}
		})
	}
}
