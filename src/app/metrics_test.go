package app

import (
	"testing"

	"github.com/replicasd/replicasd/src/api"
	"github.com/replicasd/replicasd/src/deployments/fakecluster"
	"github.com/replicasd/replicasd/src/handshakes"
	"github.com/replicasd/replicasd/src/metrics"
)

// TestFreshScrapeHasTheKnownSeries: before any API request, handshake or
// write, the first scrape already has every series whose labels are known
// in advance, at 0.
func TestFreshScrapeHasTheKnownSeries(t *testing.T) {
	cluster, err := fakecluster.New(fakecluster.Deployment("default", "web", 2, nil))
	if err != nil {
		t.Fatal(err)
	}
	h := startWith(t, cluster, func(c *Config) { c.Namespaces = []string{"default", "quiet"} })
	h.eventually(func() bool { code, _ := h.get(h.ops + "/readyz"); return code == 200 })
	fams := scrape(t, h.ops)
	type series struct {
		name   string
		labels []string
	}
	var want []series
	for _, rt := range api.Routes() {
		for _, code := range []string{"200", "500", "503"} {
			want = append(want, series{"replicasd_http_requests_total", []string{"route=" + rt.Path, "method=" + rt.Method, "code=" + code}})
		}
	}
	for _, reason := range handshakes.Reasons {
		want = append(want, series{"replicasd_tls_handshake_errors_total", []string{"reason=" + reason}})
	}
	for _, result := range metrics.ScaleResults {
		want = append(want, series{"replicasd_scale_operations_total", []string{"result=" + result}})
	}
	want = append(want,
		series{"replicasd_cache_deployments", []string{"namespace=quiet"}},
		series{"replicasd_cert_reloads_total", []string{"result=failure"}},
		series{"replicasd_http_handler_panics_total", nil},
	)
	for _, s := range want {
		if v, ok := sample(fams, s.name, s.labels...); !ok || v != 0 {
			t.Errorf("%s%v = %v (present %v), want 0 on a fresh scrape", s.name, s.labels, v, ok)
		}
	}
}
