package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/replicasd/replicasd/src/deployments/fakecluster"
)

func TestServesTheAPIOverMTLS(t *testing.T) {
	h := start(t)

	code, body := h.get(h.base + "/deployments")
	want := `"namespace":"default","name":"web","replicaCount":2`
	if code != 200 || !strings.Contains(body, want) || !strings.Contains(body, `"name":"cart"`) {
		t.Fatalf("GET /deployments = %d %s", code, body)
	}

	req, _ := http.NewRequest(http.MethodPut, h.base+"/deployments/web/replicas", strings.NewReader(`{"replicaCount": 5}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
		t.Fatalf("PUT = %d %s (ETag %q)", resp.StatusCode, b, resp.Header.Get("ETag"))
	}
	var put map[string]any
	if err := json.Unmarshal(b, &put); err != nil || put["message"] != "Replica count updated successfully." || put["replicaCount"] != float64(5) {
		t.Fatalf("PUT body = %s", b)
	}
	// Read-your-writes: the very next GET shows the new count.
	code, body = h.get(h.base + "/deployments/web/replicas")
	if code != 200 || !strings.Contains(body, `"replicaCount":5`) {
		t.Fatalf("GET after PUT = %d %s", code, body)
	}
	stored, _ := h.cluster.Stored("default", "web")
	if *stored.Spec.Replicas != 5 || h.cluster.ScaleUpdates() != 1 {
		t.Fatalf("stored replicas = %d, scale updates = %d", *stored.Spec.Replicas, h.cluster.ScaleUpdates())
	}

	code, body = h.get(h.base + "/health")
	if code != 200 || strings.TrimSpace(body) != `{"status":"healthy","kubernetes":"connected"}` {
		t.Fatalf("GET /health = %d %s", code, body)
	}
	code, body = h.get(h.ops + "/metrics")
	if code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("GET /metrics = %d", code)
	}
}

func TestRefusesClientsWithoutCertificate(t *testing.T) {
	h := start(t)
	tr := h.client.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = nil
	_, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(h.base + "/deployments")
	if err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Fatalf("GET without a client certificate: err = %v, want a refused handshake", err)
	}
}

func TestShutdownIsCleanAndReadinessDrops(t *testing.T) {
	h := start(t)
	h.cancel()
	err, ok := h.wait()
	if !ok {
		t.Fatal("Run did not return after cancel")
	}
	if err != nil {
		t.Fatalf("Run() = %v, want nil after a signal", err)
	}
	if err := h.server.checker.Ready(); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("Ready() after shutdown = %v", err)
	}
}

func TestCacheSyncFailureStopsTheServer(t *testing.T) {
	// A cluster whose list always fails: the server must give up after
	// --cache-sync-timeout instead of serving 503 forever.
	cluster, _ := fakecluster.New()
	cluster.PrependReactor("list", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(appsv1.Resource("deployments"), "", fmt.Errorf("RBAC: no list"))
	})
	// The timeout leaves the GET below time to arrive before the server
	// gives up, even on a loaded machine.
	h := startWith(t, cluster, func(c *Config) { c.CacheSyncTimeout = 5 * time.Second })
	// Until it gives up, API reads answer 503 with Retry-After.
	resp, err := h.client.Get(h.base + "/deployments")
	if err != nil {
		t.Fatalf("GET before sync: %v, want an answer of 503", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET before sync = %d %s (Retry-After %q), want 503", resp.StatusCode, b, resp.Header.Get("Retry-After"))
	}
	err, ok := h.wait()
	if !ok {
		t.Fatal("Run did not give up after the sync timeout")
	}
	if err == nil || !strings.Contains(err.Error(), "RBAC") {
		t.Fatalf("Run() = %v, want a sync failure naming RBAC", err)
	}
}

func TestFailedStartReleasesTheAPIListener(t *testing.T) {
	// A free port for the API, and an ops port already taken, so that New
	// fails after binding the API's listener.
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apiAddr := free.Addr().String()
	free.Close()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cluster, err := fakecluster.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := testConfig(t)
	cfg.ListenAddress, cfg.OpsAddress = apiAddr, taken.Addr().String()
	if _, err := NewWithClient(cfg, cluster); err == nil || !strings.Contains(err.Error(), "--ops-address") {
		t.Fatalf("NewWithClient = %v, want an error naming --ops-address", err)
	}
	// The API's port is free again: the failed start closed its listener.
	again, err := net.Listen("tcp", apiAddr)
	if err != nil {
		t.Fatalf("listening again on the API's address after a failed start: %v", err)
	}
	again.Close()
}
