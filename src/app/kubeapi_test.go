package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/replicasd/replicasd/src/audit/audittest"
	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/fakeapiserver"
	"github.com/replicasd/replicasd/src/testkit"
)

// realClient is a server built by New, with client-go's real REST client,
// against a fake API server.
type realClient struct {
	*observed
	api        *fakeapiserver.Server
	serverPair *certs.Pair
	clientPair *certs.Pair
}

// startReal runs New(cfg) against api and waits until it is ready.
func startReal(t *testing.T, api *fakeapiserver.Server, mutate func(*Config)) *realClient {
	t.Helper()
	cfg, pki := testConfig(t)
	rc := &realClient{api: api, observed: &observed{logs: &testkit.Buffer{}, audit: &testkit.Buffer{}}}
	rc.serverPair, rc.clientPair = pki.server, pki.client
	// Every level klog can ask for, so nothing client-go says escapes the
	// tests that search the output; and klog's lines go the same way, as
	// options.Complete arranges with klog.SetSlogLogger.
	handler := slog.NewJSONHandler(rc.logs, &slog.HandlerOptions{Level: slog.Level(-10)})
	klogSink.set(handler)
	t.Cleanup(func() { klogSink.set(nil) })
	cfg.RESTConfig = api.RESTConfig()
	cfg.ReadYourWritesTimeout = time.Second
	cfg.Logger = slog.New(handler)
	cfg.AuditOutput = rc.audit
	if mutate != nil {
		mutate(cfg)
	}
	rc.cfg = cfg
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rc.harness = runHarness(t, s, pki)
	rc.waitReady(waitTimeout)
	return rc
}

// klogSink receives klog's output (client-go's logs) in this test binary.
// klog.SetSlogLogger is not safe while other goroutines log, and informers
// of earlier tests may still be stopping, so klog is pointed here once,
// before any test runs, and tests switch where the lines go instead.
var klogSink = &switchHandler{}

func init() { klog.SetSlogLogger(slog.New(klogSink)) }

// switchHandler passes records on to the handler currently set, or drops
// them.
type switchHandler struct {
	current atomic.Pointer[slog.Handler]
	attrs   []slog.Attr // from WithAttrs, applied in order with groups
	groups  []string
	parent  *switchHandler
}

func (s *switchHandler) set(h slog.Handler) {
	if h == nil {
		s.current.Store(nil)
		return
	}
	s.current.Store(&h)
}

func (s *switchHandler) target() slog.Handler {
	root := s
	for root.parent != nil {
		root = root.parent
	}
	p := root.current.Load()
	if p == nil {
		return nil
	}
	h := *p
	var chain []*switchHandler
	for n := s; n.parent != nil; n = n.parent {
		chain = append(chain, n)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if len(chain[i].attrs) > 0 {
			h = h.WithAttrs(chain[i].attrs)
		}
		for _, g := range chain[i].groups {
			h = h.WithGroup(g)
		}
	}
	return h
}

func (s *switchHandler) Enabled(ctx context.Context, l slog.Level) bool {
	h := s.target()
	return h != nil && h.Enabled(ctx, l)
}

func (s *switchHandler) Handle(ctx context.Context, r slog.Record) error {
	if h := s.target(); h != nil {
		return h.Handle(ctx, r)
	}
	return nil
}

func (s *switchHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &switchHandler{parent: s, attrs: attrs}
}

func (s *switchHandler) WithGroup(name string) slog.Handler {
	return &switchHandler{parent: s, groups: []string{name}}
}

func demoDeployments() []*appsv1.Deployment {
	two := int32(2)
	return []*appsv1.Deployment{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: appsv1.DeploymentSpec{Replicas: &two}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "cart"}, Spec: appsv1.DeploymentSpec{Replicas: &two}},
	}
}

// sumOf adds up every series of a metric.
func sumOf(t *testing.T, opsURL, name string) float64 {
	t.Helper()
	total := 0.0
	for _, m := range scrape(t, opsURL)[name].GetMetric() {
		total += m.GetCounter().GetValue()
	}
	return total
}

// TestReadsCostNoKubernetesAPICalls shows what the cache saves: N reads
// raise cache_reads_total by N and kube_api_requests_total by 0.
func TestReadsCostNoKubernetesAPICalls(t *testing.T) {
	api := fakeapiserver.New(t, demoDeployments()...)
	// The health probe asks /readyz every few seconds; replace it so that
	// the informer's own list and watch are the only API calls.
	rc := startReal(t, api, func(c *Config) { c.Probe = func(context.Context) error { return nil } })

	kubeBefore := sumOf(t, rc.ops, "replicasd_kube_api_requests_total")
	readsBefore := sumOf(t, rc.ops, "replicasd_cache_reads_total")
	served := api.Total()
	if kubeBefore == 0 || kubeBefore != float64(served) {
		t.Fatalf("before the reads: kube_api_requests_total = %v, the fake API server served %d (%v); want equal and non-zero",
			kubeBefore, served, api.Requests())
	}

	const n = 60
	paths := []string{"/deployments", "/namespaces/shop/deployments", "/deployments/web/replicas", "/namespaces/shop/deployments/cart/replicas"}
	for i := range n {
		if code, body := rc.get(rc.base + paths[i%len(paths)]); code != 200 {
			t.Fatalf("GET %s = %d %s", paths[i%len(paths)], code, body)
		}
	}

	if got := sumOf(t, rc.ops, "replicasd_cache_reads_total") - readsBefore; got != n {
		t.Errorf("cache_reads_total rose by %v over %d reads, want %d", got, n, n)
	}
	if got := sumOf(t, rc.ops, "replicasd_kube_api_requests_total") - kubeBefore; got != 0 {
		t.Errorf("kube_api_requests_total rose by %v over %d reads, want 0", got, n)
	}
	if got := api.Total() - served; got != 0 {
		t.Errorf("the fake API server served %d requests during the reads, want 0: %v", got, api.Requests())
	}

	// The informer's calls are counted as they happen: an update arrives
	// over the open watch, without any new call.
	web := demoDeployments()[0]
	five := int32(5)
	web.Spec.Replicas = &five
	api.Apply(web)
	rc.eventually(func() bool {
		_, body := rc.get(rc.base + "/deployments/web/replicas")
		return strings.Contains(body, `"replicaCount":5`)
	})
	if got := sumOf(t, rc.ops, "replicasd_kube_api_requests_total"); got != kubeBefore {
		t.Errorf("kube_api_requests_total = %v after a watch event, want still %v", got, kubeBefore)
	}
}

// TestNoSecretsInLogsOrAudit runs a full server at the most verbose
// logging, client-go's klog included, through good and bad requests, bad
// handshakes and a certificate reload, and then searches everything it
// wrote for key material and the Kubernetes bearer token.
func TestNoSecretsInLogsOrAudit(t *testing.T) {
	api := fakeapiserver.New(t, demoDeployments()...)
	const token = "s3cr3t-bearer-token-0123456789abcdef"
	api.Token = token

	// client-go's most verbose output: request and response dumps.
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	if err := fs.Set("v", "10"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fs.Set("v", "0") })

	rc := startReal(t, api, func(c *Config) {
		cfg := *c.RESTConfig
		cfg.BearerToken = token
		c.RESTConfig = &cfg
		c.AuditReads = true
	})
	if api.Requests()["401"] != 0 {
		t.Fatalf("the server did not send its token: %v", api.Requests())
	}

	mustStatus(t, "list", 200)(rc.do("GET", rc.base+"/deployments", ""))
	mustStatus(t, "get", 200)(rc.do("GET", rc.base+"/deployments/web/replicas", ""))
	mustStatus(t, "scale", 200)(rc.do("PUT", rc.base+"/deployments/web/replicas", `{"replicaCount": 3}`))
	mustStatus(t, "bad body", 400)(rc.do("PUT", rc.base+"/deployments/web/replicas", `{"replicaCount": "x"}`))
	rc.refusedHandshake(nil)
	otherCA, err := certs.NewCA("other CA")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := otherCA.IssueClient("mallory", nil)
	if err != nil {
		t.Fatal(err)
	}
	rc.refusedHandshake(stranger)
	rotated := rotateServerCert(t, rc.observed)
	rc.eventually(func() bool { return strings.Contains(string(rc.logs.Bytes()), "reloaded TLS files") })
	rc.stop()

	output := append(rc.logs.Bytes(), rc.audit.Bytes()...)
	audittest.Decode(t, rc.audit.Bytes())
	if !bytes.Contains(rc.logs.Bytes(), []byte(`"level":"DEBUG"`)) || !bytes.Contains(output, []byte("TLS handshake failed")) {
		t.Fatalf("the run logged too little for the search to mean anything:\n%s", output)
	}
	if !bytes.Contains(rc.logs.Bytes(), []byte("apis/apps/v1/deployments")) {
		t.Fatalf("client-go's verbose log did not reach the logger:\n%s", output)
	}

	secrets := map[string]string{
		"PEM private key header": "PRIVATE KEY",
		"bearer token":           token,
	}
	for name, pair := range map[string]*certs.Pair{
		"server key": rc.serverPair, "client key": rc.clientPair, "rotated server key": rotated, "stranger key": stranger,
	} {
		block, _ := pem.Decode(pair.KeyPEM)
		// Each line of the PEM body, since JSON escapes the newlines.
		for i, line := range strings.Split(string(pair.KeyPEM), "\n") {
			if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
				secrets[fmt.Sprintf("%s (PEM line %d)", name, i)] = line
			}
		}
		secrets[name+" (DER hex)"] = hex.EncodeToString(block.Bytes)
		raw, err := pair.Key.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		secrets[name+" (scalar hex)"] = hex.EncodeToString(raw)
		secrets[name+" (scalar base64)"] = base64.StdEncoding.EncodeToString(raw)
		secrets[name+" (scalar decimal)"] = new(big.Int).SetBytes(raw).String()
	}
	for name, secret := range secrets {
		if bytes.Contains(output, []byte(secret)) {
			t.Errorf("the %s appears in the logs or audit events", name)
		}
	}
	if !bytes.Contains(output, []byte("Bearer <masked>")) {
		t.Logf("note: client-go did not log its request headers")
	}
}
