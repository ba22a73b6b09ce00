package app

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/deployments/fakecluster"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

type harness struct {
	t       *testing.T
	ca      *certs.Pair // issued the server's and alice's certificates
	cluster *fakecluster.Cluster
	server  *Server
	client  *http.Client
	base    string
	ops     string
	done    chan error
	cancel  context.CancelFunc

	waitOnce sync.Once
	runErr   error
}

// wait returns Run's result, waiting at most 10s.
func (h *harness) wait() (error, bool) {
	ok := true
	h.waitOnce.Do(func() {
		select {
		case h.runErr = <-h.done:
		case <-time.After(10 * time.Second):
			ok = false
		}
	})
	return h.runErr, ok
}

// start runs a server over the fake cluster and waits until it is ready.
func start(t *testing.T) *harness {
	t.Helper()
	cluster, err := fakecluster.New(
		fakecluster.Deployment("default", "web", 2, map[string]string{"app": "web"}),
		fakecluster.Deployment("shop", "cart", 1, nil),
	)
	if err != nil {
		t.Fatal(err)
	}
	h := startWith(t, cluster, nil)
	h.eventually(func() bool { code, _ := h.get(h.ops + "/readyz"); return code == 200 })
	return h
}

// startWith runs a server over cluster, with cfg changed by mutate.
func startWith(t *testing.T, cluster *fakecluster.Cluster, mutate func(*Config)) *harness {
	t.Helper()
	dir := t.TempDir()
	ca, err := certs.NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	srvPair, err := ca.IssueServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient("alice", []string{"sre"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{
		ListenAddress: "127.0.0.1:0",
		OpsAddress:    "127.0.0.1:0",
		TLS: tlsconfig.Config{
			CertFile:     filepath.Join(dir, "tls.crt"),
			KeyFile:      filepath.Join(dir, "tls.key"),
			ClientCAFile: filepath.Join(dir, "ca.crt"),
		},
		DefaultNamespace:          "default",
		MaxReplicas:               100,
		CacheSyncTimeout:          10 * time.Second,
		ReadYourWritesTimeout:     5 * time.Second,
		MinResourceVersionTimeout: time.Second,
		ShutdownTimeout:           5 * time.Second,
		Probe:                     func(context.Context) error { return nil },
		Logger:                    slog.New(slog.DiscardHandler),
	}
	if err := srvPair.WriteFiles(cfg.TLS.CertFile, cfg.TLS.KeyFile); err != nil {
		t.Fatal(err)
	}
	if err := certs.WriteFile(cfg.TLS.ClientCAFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(cfg)
	}
	s, err := NewWithClient(cfg, cluster)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{
		t: t, ca: ca, cluster: cluster, server: s, cancel: cancel, done: make(chan error, 1),
		base: "https://" + s.APIAddr().String() + "/api/v1",
		ops:  "http://" + s.OpsAddr().String(),
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: ca.CertPool(), Certificates: []tls.Certificate{client.TLSCertificate()},
		}}},
	}
	go func() { h.done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		_, _ = h.wait()
	})
	return h
}

func (h *harness) get(url string) (int, string) {
	resp, err := h.client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *harness) eventually(cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

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
