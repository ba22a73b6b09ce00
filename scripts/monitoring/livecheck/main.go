// Command livecheck runs the replicasd binary against a fake Kubernetes API
// server, puts it through what operators see happen (reads, writes, a
// no-op, a request the authorization policy refuses, one the write limit
// refuses, refused TLS handshakes, a watch that lags behind a write, an API
// server outage, certificate reloads good and bad), and keeps what it
// wrote: its logs, its audit events and a scrape of /metrics. `make lint` checks the scrape with
// `promtool check metrics`; docs/observability.md quotes the rest.
//
//	go run ./scripts/monitoring/livecheck -replicasd bin/replicasd -out DIR
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/fakeapiserver"
)

func main() {
	binary := flag.String("replicasd", "bin/replicasd", "the replicasd binary to run")
	out := flag.String("out", "", "directory for replicasd.log, audit.log and metrics.txt (required)")
	flag.Parse()
	if *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*binary, *out); err != nil {
		fmt.Fprintf(os.Stderr, "livecheck: %v\n", err)
		os.Exit(1)
	}
}

// cleanups stands in for testing.T where fakeapiserver wants one.
type cleanups []func()

func (c *cleanups) Cleanup(f func()) { *c = append(*c, f) }

func (c *cleanups) run() {
	for i := len(*c) - 1; i >= 0; i-- {
		(*c)[i]()
	}
}

func deployment(ns, name string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
	}
}

func run(binary, out string) error {
	// Configuration goes into a directory of its own: replicasd watches
	// the directories of its certificate and policy files.
	config := filepath.Join(out, "config")
	if err := os.MkdirAll(config, 0o750); err != nil {
		return err
	}
	var c cleanups
	defer c.run()
	api := fakeapiserver.New(&c, deployment("default", "web", 2), deployment("default", "api", 3), deployment("shop", "cart", 1))
	kubeconfig := filepath.Join(config, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: %q}}]
users: [{name: replicasd, user: {}}]
contexts: [{name: fake, context: {cluster: fake, user: replicasd}}]
current-context: fake
`, api.RESTConfig().Host)), 0o600); err != nil {
		return err
	}

	pki, err := newPKI(filepath.Join(config, "certs"))
	if err != nil {
		return err
	}
	policy := filepath.Join(config, "policy.yaml")
	if err := os.WriteFile(policy, []byte(`rules:
  - groups: ["sre"]
    verbs: ["get", "list", "scale"]
    namespaces: ["*"]
  - groups: ["viewers"]
    verbs: ["get", "list"]
    namespaces: ["*"]
`), 0o600); err != nil {
		return err
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return err
	}
	opsAddr, err := freeAddr()
	if err != nil {
		return err
	}

	logFile, err := os.Create(filepath.Join(out, "replicasd.log")) // #nosec G304 -- the directory the developer named
	if err != nil {
		return err
	}
	defer logFile.Close()
	auditPath := filepath.Join(out, "audit.log")
	_ = os.Remove(auditPath)
	cmd := exec.Command(binary, // #nosec G204 -- runs the binary the developer named, with our own flags
		"--listen-address="+apiAddr, "--ops-address="+opsAddr,
		"--tls-cert-file="+pki.file("server.crt"), "--tls-private-key-file="+pki.file("server.key"),
		"--client-ca-file="+pki.file("ca.crt"),
		"--kubeconfig="+kubeconfig,
		"--authorization-policy-file="+policy,
		"--write-rate-limit=0.01", "--write-burst=3",
		"--read-your-writes-timeout=1s",
		"--audit-log-path="+auditPath,
		"--log-level=debug",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	ops := "http://" + opsAddr
	if err := waitReady(ops+"/readyz", exited, logFile.Name()); err != nil {
		return err
	}
	base := "https://" + apiAddr + "/api/v1"
	if err := exercise(base, pki); err != nil {
		return err
	}
	if err := disturb(base, pki, api, logFile.Name()); err != nil {
		return err
	}
	if err := save(ops+"/metrics", filepath.Join(out, "metrics.txt")); err != nil {
		return err
	}

	_ = cmd.Process.Signal(syscall.SIGTERM)
	stopped = true
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("replicasd did not exit cleanly on SIGTERM: %w (log in %s)", err, logFile.Name())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return errors.New("replicasd did not stop within 30s of SIGTERM")
	}
	fmt.Printf("livecheck: wrote %s, %s and %s\n", logFile.Name(), auditPath, filepath.Join(out, "metrics.txt"))
	return nil
}

// pki holds the development certificates plus a stranger's and an expired
// one.
type pki struct {
	dir      string
	ca       *certs.Pair
	admin    tls.Certificate
	operator tls.Certificate // sre too, with a write limit bucket of its own
	viewer   tls.Certificate
	stranger tls.Certificate
	expired  tls.Certificate
	noUsage  tls.Certificate // no extended key usage: parsed, then refused
}

func (p *pki) file(name string) string { return filepath.Join(p.dir, name) }

func newPKI(dir string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	p := &pki{dir: dir}
	var err error
	if p.ca, err = certs.NewCA("replicasd livecheck CA"); err != nil {
		return nil, err
	}
	server, err := p.ca.IssueServer(nil)
	if err != nil {
		return nil, err
	}
	if err := server.WriteFiles(p.file("server.crt"), p.file("server.key")); err != nil {
		return nil, err
	}
	if err := certs.WriteFile(p.file("ca.crt"), p.ca.CertPEM, certs.CertFileMode); err != nil {
		return nil, err
	}
	issue := func(ca *certs.Pair, cn, org string, opts ...certs.Option) (tls.Certificate, error) {
		c, err := ca.IssueClient(cn, []string{org}, opts...)
		if err != nil {
			return tls.Certificate{}, err
		}
		return c.TLSCertificate(), nil
	}
	if p.admin, err = issue(p.ca, "admin", "sre"); err != nil {
		return nil, err
	}
	if p.operator, err = issue(p.ca, "operator", "sre"); err != nil {
		return nil, err
	}
	if p.viewer, err = issue(p.ca, "viewer", "viewers"); err != nil {
		return nil, err
	}
	other, err := certs.NewCA("some other CA")
	if err != nil {
		return nil, err
	}
	if p.stranger, err = issue(other, "mallory", "sre"); err != nil {
		return nil, err
	}
	now := time.Now()
	if p.expired, err = issue(p.ca, "old-laptop", "sre", certs.WithValidity(now.Add(-30*24*time.Hour), now.Add(-24*time.Hour))); err != nil {
		return nil, err
	}
	if p.noUsage, err = issue(p.ca, "webhook", "sre", certs.WithExtKeyUsage()); err != nil {
		return nil, err
	}
	return p, nil
}

// client returns an HTTPS client presenting cert (none when nil).
func (p *pki) client(cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: p.ca.CertPool(), MinVersion: tls.VersionTLS13}
	if cert != nil {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
}

// exercise sends the requests whose traces the docs quote.
func exercise(base string, p *pki) error {
	admin, viewer := p.client(&p.admin), p.client(&p.viewer)
	steps := []struct {
		client *http.Client
		method string
		path   string
		body   string
		header []string
		want   int
	}{
		{admin, "GET", "/deployments", "", nil, 200},
		{admin, "GET", "/namespaces/shop/deployments/cart/replicas", "", nil, 200},
		{admin, "GET", "/deployments/nope/replicas", "", nil, 404},
		{admin, "PUT", "/deployments/web/replicas", `{"replicaCount": 5}`, []string{"X-Request-ID", "livecheck-scale-1"}, 200},
		{admin, "PUT", "/deployments/web/replicas", `{"replicaCount": 5}`, nil, 200},
		{admin, "PUT", "/deployments/web/replicas", `{"replicaCount": 6}`, []string{"If-Match", `"1"`}, 412},
		{viewer, "PUT", "/namespaces/shop/deployments/cart/replicas", `{"replicaCount": 2}`, nil, 403},
		{admin, "PUT", "/deployments/api/replicas", `{"replicaCount": 4}`, nil, 429},
	}
	for _, s := range steps {
		req, err := http.NewRequest(s.method, base+s.path, strings.NewReader(s.body))
		if err != nil {
			return err
		}
		if s.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(s.header); i += 2 {
			req.Header.Set(s.header[i], s.header[i+1])
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", s.method, s.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != s.want {
			return fmt.Errorf("%s %s = %d %s, want %d", s.method, s.path, resp.StatusCode, body, s.want)
		}
	}
	for _, c := range []struct {
		name string
		cert *tls.Certificate
	}{{"no", nil}, {"a stranger's", &p.stranger}, {"an expired", &p.expired}, {"a server-only", &p.noUsage}} {
		name, cert := c.name, c.cert
		if resp, err := p.client(cert).Get(base + "/deployments"); err == nil {
			_ = resp.Body.Close()
			return fmt.Errorf("a client with %s certificate got an answer: %d", name, resp.StatusCode)
		}
	}
	return nil
}

// disturb makes the things happen that operators are warned of: a watch
// that lags behind a write, an API server outage and its end, a certificate
// reload, a broken one and its repair.
func disturb(base string, p *pki, api *fakeapiserver.Server, logPath string) error {
	operator := p.client(&p.operator)
	put := func(path, body string, want int) error {
		req, err := http.NewRequest(http.MethodPut, base+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := operator.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("PUT %s = %d %s, want %d", path, resp.StatusCode, b, want)
		}
		return nil
	}

	// The watch lags: the PUT answers once --read-your-writes-timeout is up.
	api.HoldEvents(true)
	err := put("/namespaces/shop/deployments/cart/replicas", `{"replicaCount": 3}`, http.StatusOK)
	api.HoldEvents(false)
	if err != nil {
		return err
	}

	// The API server goes away and comes back.
	api.SetDown(true)
	if err := put("/namespaces/shop/deployments/cart/replicas", `{"replicaCount": 4}`, http.StatusBadGateway); err != nil {
		return err
	}
	if err := waitLog(logPath, "deployment list/watch failed", 1); err != nil {
		return err
	}
	api.SetDown(false)
	if err := waitLog(logPath, "deployment watch recovered", 1); err != nil {
		return err
	}

	// The server certificate is renewed, then broken, then fixed.
	renewed, err := p.ca.IssueServer(nil)
	if err != nil {
		return err
	}
	if err := renewed.WriteFiles(p.file("server.crt"), p.file("server.key")); err != nil {
		return err
	}
	if err := waitLog(logPath, `"msg":"reloaded TLS files"`, 1); err != nil {
		return err
	}
	if err := certs.WriteFile(p.file("server.crt"), []byte("not a certificate\n"), certs.CertFileMode); err != nil {
		return err
	}
	if err := waitLog(logPath, "reloading TLS files failed", 1); err != nil {
		return err
	}
	// Putting the same set back is a return to the loaded set, not a
	// reload; fix it with a new certificate.
	fixed, err := p.ca.IssueServer(nil)
	if err != nil {
		return err
	}
	if err := fixed.WriteFiles(p.file("server.crt"), p.file("server.key")); err != nil {
		return err
	}
	return waitLog(logPath, `"msg":"reloaded TLS files"`, 2)
}

// waitLog waits until the log holds at least n lines containing text.
func waitLog(path, text string, n int) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(path) // #nosec G304 -- our own log file
		if err != nil {
			return err
		}
		if strings.Count(string(data), text) >= n {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the log did not show %q %d times within 60s; its last lines (%s):\n%s", text, n, path, lastLines(path, 30))
}

// lastLines is the end of a log, to say why a wait ran out.
func lastLines(path string, n int) string {
	data, err := os.ReadFile(path) // #nosec G304 -- our own log file
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func waitReady(url string, exited <-chan error, logPath string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("replicasd exited before it was ready: %v; its last log lines (%s):\n%s", err, logPath, lastLines(logPath, 30))
		default:
		}
		if resp, err := http.Get(url); err == nil { // #nosec G107 -- the loopback address we started the server on
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("replicasd was not ready within 30s; its last log lines (%s):\n%s", logPath, lastLines(logPath, 30))
}

func save(url, path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s = %d", url, resp.StatusCode)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
