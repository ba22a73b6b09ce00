package metrics_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/fakeapiserver"
)

var metricName = regexp.MustCompile(`\breplicasd_[a-z_]+`)

// exposedNames returns every series name a server can expose, with every
// vector used once and the _bucket, _sum and _count of histograms.
func exposedNames(t *testing.T) []string {
	t.Helper()
	m, reg := newMetrics(t)
	m.RegisterCacheSynced(func() bool { return true })
	m.RegisterReady(func() error { return nil })
	m.RegisterCertificates(fakeCerts{})
	m.Middleware(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	m.TLSHandshakeFailed("other")
	m.CertReloaded("success")
	obs := m.Observer()
	d := &deployments.Deployment{Namespace: "a"}
	obs.OnAdd(d, true)
	obs.OnUpdate(d, d)
	obs.OnDelete(d)
	obs.OnWatchError("a", nil)
	_, _ = m.CountScales(fakeScaler{res: deployments.ScaleResult{Changed: true}}).Scale(context.Background(), "a", "b", 1, deployments.IfMatch{})
	api := fakeapiserver.New(t)
	stop, err := m.ObserveKubeAPI(api.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, err := kubernetes.NewForConfigOrDie(api.RESTConfig()).AppsV1().Deployments("").List(context.Background(), metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
		if f.GetType() == dto.MetricType_HISTOGRAM {
			names = append(names, f.GetName()+"_bucket", f.GetName()+"_sum", f.GetName()+"_count")
		}
	}
	return names
}

func readMonitoringFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "monitoring", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkNames fails for each replicasd_ name in expr that no server exposes.
func checkNames(t *testing.T, where, expr string, exposed []string) {
	t.Helper()
	found := metricName.FindAllString(expr, -1)
	if len(found) == 0 && strings.Contains(where, "panel") {
		t.Errorf("%s queries no replicasd metric: %s", where, expr)
	}
	for _, name := range found {
		if !slices.Contains(exposed, name) {
			t.Errorf("%s uses %s, which replicasd does not expose", where, name)
		}
	}
}

func TestDashboardQueriesExistingMetrics(t *testing.T) {
	exposed := exposedNames(t)
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(readMonitoringFile(t, "grafana-dashboard.json"), &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	ids := map[int]bool{}
	var titles []string
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		titles = append(titles, strings.ToLower(p.Title))
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			checkNames(t, "panel "+p.Title, target.Expr, exposed)
		}
	}
	// What the issue asks the dashboard to show.
	all := strings.Join(titles, "\n")
	for _, want := range []string{"request rate", "error", "latency", "deployments in the cache", "api calls saved", "scale operations", "certificate expiry"} {
		if !strings.Contains(all, want) {
			t.Errorf("no panel titled with %q", want)
		}
	}
}

func TestAlertRulesUseExistingMetrics(t *testing.T) {
	exposed := exposedNames(t)
	var rule struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Alert       string            `json:"alert"`
					Record      string            `json:"record"`
					Expr        string            `json:"expr"`
					For         string            `json:"for"`
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(readMonitoringFile(t, "prometheus-rules.yaml"), &rule); err != nil {
		t.Fatalf("prometheus-rules.yaml: %v", err)
	}
	if rule.Kind != "PrometheusRule" || rule.APIVersion != "monitoring.coreos.com/v1" {
		t.Errorf("kind %q apiVersion %q", rule.Kind, rule.APIVersion)
	}
	var alerts []string
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			checkNames(t, "rule "+r.Alert+r.Record, r.Expr, exposed)
			if r.Alert != "" {
				alerts = append(alerts, r.Alert)
				if s := r.Labels["severity"]; s != "warning" && s != "critical" {
					t.Errorf("alert %s has severity %q", r.Alert, s)
				}
				if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
					t.Errorf("alert %s lacks a summary or description", r.Alert)
				}
			}
		}
	}
	// What the issue asks to alert on.
	for _, want := range []string{
		"ReplicasdNotReady", "ReplicasdCacheNotSynced", "ReplicasdWatchErrors", "ReplicasdCertificateExpiringSoon",
		"ReplicasdHighErrorRatio", "ReplicasdReadYourWritesTimeouts",
	} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s", want)
		}
	}
}
