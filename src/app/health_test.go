package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/replicasd/replicasd/src/deployments/fakecluster"
	"github.com/replicasd/replicasd/src/testkit"
)

func TestAPIHealthIsUnhealthyUntilTheCacheSyncs(t *testing.T) {
	cluster, err := fakecluster.New(fakecluster.Deployment("default", "web", 2, nil))
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	cluster.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		<-release
		return false, nil, nil
	})
	h := startWith(t, cluster, nil)
	t.Cleanup(func() { close(release) }) // runs before the harness's: the held list returns first

	// Not synced: reads answer 503, and so does the API's health.
	code, body := h.get(h.base + "/deployments")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("GET /deployments before sync = %d %s, want 503", code, body)
	}
	code, body = h.get(h.base + "/health")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"status":"unhealthy"`) ||
		!strings.Contains(body, "deployment cache not synced") {
		t.Fatalf("GET /health before sync = %d %s, want 503 unhealthy saying the cache is not synced", code, body)
	}
	if code, body := h.get(h.ops + "/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz before sync = %d %s, want 503", code, body)
	}
}

func TestAPIHealthKeepsTheKubernetesAddressOutAndLogsIt(t *testing.T) {
	cluster, err := fakecluster.New(fakecluster.Deployment("default", "web", 2, nil))
	if err != nil {
		t.Fatal(err)
	}
	const detail = `Get "https://10.96.0.1:443/readyz": dial tcp 10.96.0.1:443: connect: connection refused`
	logs := &testkit.Buffer{}
	h := startWith(t, cluster, func(c *Config) {
		c.Probe = func(context.Context) error { return errors.New(detail) }
		c.Logger = testkit.JSONLogger(logs, slog.LevelInfo)
	})
	h.eventually(func() bool { return strings.Contains(string(logs.Bytes()), "10.96.0.1") })
	code, body := h.get(h.base + "/health")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "kubernetes API unreachable") {
		t.Fatalf("GET /health = %d %s, want 503 saying the Kubernetes API is unreachable", code, body)
	}
	if strings.Contains(body, "10.96.0.1") {
		t.Errorf("GET /health = %s names the Kubernetes API server's address", body)
	}
}
