package app

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/deployments/fakecluster"
	"github.com/replicasd/replicasd/src/testkit"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// waitTimeout bounds the harness's waits; it only matters when a test fails.
const waitTimeout = 10 * time.Second

// harness is one running server and a client to call it: what the tests
// and the benchmarks of this package share.
type harness struct {
	t       testing.TB
	ca      *certs.Pair // issued the server's and alice's certificates
	pki     *testPKI
	cluster *fakecluster.Cluster // nil for a server built by New
	server  *Server
	client  *http.Client // presents alice's certificate
	base    string
	ops     string
	done    chan error
	cancel  context.CancelFunc

	waitOnce sync.Once
	runErr   error
}

// testPKI is a test server's certificates: a CA, the serving pair it
// issued, and alice's client pair (group sre).
type testPKI struct {
	ca, server, client *certs.Pair
}

// testConfig returns the configuration every test server starts from:
// loopback listeners, a serving certificate and client CA written into a
// temporary directory, and no logs.
func testConfig(tb testing.TB) (*Config, *testPKI) {
	tb.Helper()
	dir := tb.TempDir()
	ca, err := certs.NewCA("test-ca")
	if err != nil {
		tb.Fatal(err)
	}
	pki := &testPKI{ca: ca}
	if pki.server, err = ca.IssueServer(nil); err != nil {
		tb.Fatal(err)
	}
	if pki.client, err = ca.IssueClient("alice", []string{"sre"}); err != nil {
		tb.Fatal(err)
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
		Logger:                    slog.New(slog.DiscardHandler),
	}
	if err := pki.server.WriteFiles(cfg.TLS.CertFile, cfg.TLS.KeyFile); err != nil {
		tb.Fatal(err)
	}
	if err := certs.WriteFile(cfg.TLS.ClientCAFile, ca.CertPEM, 0o644); err != nil {
		tb.Fatal(err)
	}
	return cfg, pki
}

// clientTLS is the TLS configuration of a client presenting pki's client
// certificate and trusting its CA.
func (pki *testPKI) clientTLS() *tls.Config {
	return &tls.Config{RootCAs: pki.ca.CertPool(), Certificates: []tls.Certificate{pki.client.TLSCertificate()}}
}

// runHarness starts s.Run and stops it when the test ends.
func runHarness(tb testing.TB, s *Server, pki *testPKI) *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{
		t: tb, ca: pki.ca, pki: pki, server: s, cancel: cancel, done: make(chan error, 1),
		base:   "https://" + s.APIAddr().String() + "/api/v1",
		ops:    "http://" + s.OpsAddr().String(),
		client: &http.Client{Timeout: waitTimeout, Transport: &http.Transport{TLSClientConfig: pki.clientTLS()}},
	}
	go func() { h.done <- s.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		_, _ = h.wait()
	})
	return h
}

// startWith runs a server over cluster, with cfg changed by mutate.
func startWith(tb testing.TB, cluster *fakecluster.Cluster, mutate func(*Config)) *harness {
	tb.Helper()
	cfg, pki := testConfig(tb)
	cfg.Probe = func(context.Context) error { return nil }
	if mutate != nil {
		mutate(cfg)
	}
	s, err := NewWithClient(cfg, cluster)
	if err != nil {
		tb.Fatal(err)
	}
	h := runHarness(tb, s, pki)
	h.cluster = cluster
	return h
}

// startReady is startWith, waiting until the server is ready.
func startReady(tb testing.TB, cluster *fakecluster.Cluster, mutate func(*Config)) *harness {
	tb.Helper()
	h := startWith(tb, cluster, mutate)
	h.waitReady(waitTimeout)
	return h
}

// start runs a server over a fake cluster of two Deployments and waits
// until it is ready.
func start(t *testing.T) *harness {
	t.Helper()
	cluster, err := fakecluster.New(
		fakecluster.Deployment("default", "web", 2, map[string]string{"app": "web"}),
		fakecluster.Deployment("shop", "cart", 1, nil),
	)
	if err != nil {
		t.Fatal(err)
	}
	return startReady(t, cluster, nil)
}

// wait returns Run's result, waiting at most waitTimeout.
func (h *harness) wait() (error, bool) {
	ok := true
	h.waitOnce.Do(func() {
		select {
		case h.runErr = <-h.done:
		case <-time.After(waitTimeout):
			ok = false
		}
	})
	return h.runErr, ok
}

// waitReady waits at most timeout for /readyz to answer 200.
func (h *harness) waitReady(timeout time.Duration) {
	h.t.Helper()
	testkit.EventuallyTrue(h.t, timeout, "the server gets ready", func() bool {
		code, _ := h.get(h.ops + "/readyz")
		return code == http.StatusOK
	})
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
	testkit.EventuallyTrue(h.t, waitTimeout, "condition", cond)
}
