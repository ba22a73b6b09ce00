package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/deployments/fakecluster"
	"github.com/replicasd/replicasd/src/testkit"
)

// securityPolicy is the policy of the end-to-end tests.
const securityPolicy = `rules:
  - groups: [viewers]
    verbs: [get, list]
    namespaces: ["*"]
  - groups: [team-a]
    verbs: [get, list, scale]
    namespaces: [team-a]
    maxReplicas: 10
  - users: [ci-bot]
    verbs: [get, scale]
    namespaces: [team-b]
    deployments: [web]
    maxReplicas: 50
`

func securityCluster(t *testing.T) *fakecluster.Cluster {
	t.Helper()
	cluster, err := fakecluster.New(
		fakecluster.Deployment("team-a", "web", 2, nil),
		fakecluster.Deployment("team-a", "api", 1, nil),
		fakecluster.Deployment("team-b", "web", 3, nil),
		fakecluster.Deployment("team-b", "db", 1, nil),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cluster
}

// writePolicy replaces the policy file atomically, as a ConfigMap update
// or an editor does.
func writePolicy(t *testing.T, path, policy string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// withPolicyFile makes the server read its policy from a new file holding
// policy, and returns the file's path.
func withPolicyFile(t *testing.T, policy string) (string, func(*Config)) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writePolicy(t, path, policy)
	return path, func(c *Config) { c.AuthorizationPolicyFile = path }
}

// clientAs returns an HTTP client presenting a certificate for user and
// groups from the harness CA.
func (h *harness) clientAs(user string, groups ...string) *http.Client {
	h.t.Helper()
	p, err := h.ca.IssueClient(user, groups)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.clientWith(p)
}

// clientWith returns an HTTP client presenting cert.
func (h *harness) clientWith(cert *certs.Pair) *http.Client {
	tr := h.client.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = []tls.Certificate{cert.TLSCertificate()}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// answer is one response, read in full.
type answer struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, c *http.Client, method, url, body string) answer {
	t.Helper()
	a, err := try(c, method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return a
}

func try(c *http.Client, method, url, body string) (answer, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if method == http.MethodPut {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}, err
}

// wantError checks status and the exact error envelope.
func wantError(t *testing.T, a answer, status int, msg string) {
	t.Helper()
	want, _ := json.Marshal(map[string]string{"error": msg})
	if a.status != status || strings.TrimSpace(a.body) != string(want) {
		t.Errorf("got %d %s\nwant %d %s", a.status, strings.TrimSpace(a.body), status, want)
	}
}

func TestAuthorizationPolicyEndToEnd(t *testing.T) {
	_, policy := withPolicyFile(t, securityPolicy)
	h := startReady(t, securityCluster(t), policy)
	viewer := h.clientAs("vera", "viewers")
	dev := h.clientAs("bob", "team-a")
	bot := h.clientAs("ci-bot")
	stranger := h.clientAs("eve")

	t.Run("read-only identity PUTs", func(t *testing.T) {
		a := do(t, viewer, "PUT", h.base+"/namespaces/team-a/deployments/web/replicas", `{"replicaCount": 3}`)
		wantError(t, a, 403, `CN=vera (groups: viewers) may not scale deployment "web" in namespace "team-a"`)
	})
	t.Run("read-only identity reads", func(t *testing.T) {
		if a := do(t, viewer, "GET", h.base+"/namespaces/team-b/deployments/db/replicas", ""); a.status != 200 {
			t.Errorf("GET = %d %s", a.status, a.body)
		}
	})
	t.Run("other team's namespace", func(t *testing.T) {
		a := do(t, dev, "PUT", h.base+"/namespaces/team-b/deployments/web/replicas", `{"replicaCount": 3}`)
		wantError(t, a, 403, `CN=bob (groups: team-a) may not scale deployment "web" in namespace "team-b"`)
		a = do(t, dev, "GET", h.base+"/deployments/missing/replicas?namespace=team-b", "")
		wantError(t, a, 403, `CN=bob (groups: team-a) may not get deployment "missing" in namespace "team-b"`)
		a = do(t, dev, "GET", h.base+"/namespaces/team-b/deployments", "")
		wantError(t, a, 403, `CN=bob (groups: team-a) may not list deployments in namespace "team-b"`)
	})
	t.Run("maxReplicas of the rule", func(t *testing.T) {
		a := do(t, dev, "PUT", h.base+"/namespaces/team-a/deployments/web/replicas", `{"replicaCount": 11}`)
		wantError(t, a, 403, `CN=bob (groups: team-a) may not scale deployment "web" in namespace "team-a" to 11 replicas: the policy allows at most 10 (maxReplicas of the rule at line 5)`)
		a = do(t, bot, "PUT", h.base+"/namespaces/team-b/deployments/web/replicas", `{"replicaCount": 51}`)
		wantError(t, a, 403, `CN=ci-bot (no groups) may not scale deployment "web" in namespace "team-b" to 51 replicas: the policy allows at most 50 (maxReplicas of the rule at line 9)`)
		if n := h.cluster.ScaleUpdates(); n != 0 {
			t.Fatalf("%d scale updates reached Kubernetes", n)
		}
		if a := do(t, dev, "PUT", h.base+"/namespaces/team-a/deployments/web/replicas", `{"replicaCount": 10}`); a.status != 200 {
			t.Fatalf("PUT at the limit = %d %s", a.status, a.body)
		}
		if a := do(t, bot, "PUT", h.base+"/namespaces/team-b/deployments/web/replicas", `{"replicaCount": 50}`); a.status != 200 {
			t.Fatalf("PUT at the limit = %d %s", a.status, a.body)
		}
	})
	t.Run("lists show what the identity may see", func(t *testing.T) {
		names := func(c *http.Client) string {
			a := do(t, c, "GET", h.base+"/deployments", "")
			var items []struct{ Namespace, Name string }
			if err := json.Unmarshal([]byte(a.body), &items); a.status != 200 || err != nil {
				t.Fatalf("GET /deployments = %d %s", a.status, a.body)
			}
			var out []string
			for _, it := range items {
				out = append(out, it.Namespace+"/"+it.Name)
			}
			return strings.Join(out, ",")
		}
		if got, want := names(dev), "team-a/api,team-a/web"; got != want {
			t.Errorf("bob sees %s, want %s", got, want)
		}
		if got, want := names(viewer), "team-a/api,team-a/web,team-b/db,team-b/web"; got != want {
			t.Errorf("vera sees %s, want %s", got, want)
		}
		a := do(t, bot, "GET", h.base+"/deployments", "")
		wantError(t, a, 403, "CN=ci-bot (no groups) may not list deployments in any namespace")
	})
	t.Run("health for every verified client", func(t *testing.T) {
		if a := do(t, stranger, "GET", h.base+"/health", ""); a.status != 200 {
			t.Errorf("GET /health = %d %s", a.status, a.body)
		}
		a := do(t, stranger, "GET", h.base+"/namespaces/team-a/deployments/web/replicas", "")
		wantError(t, a, 403, `CN=eve (no groups) may not get deployment "web" in namespace "team-a"`)
	})
}

func TestAuthorizationPolicyHotReload(t *testing.T) {
	logs := &testkit.Buffer{}
	path, policy := withPolicyFile(t, securityPolicy)
	h := startReady(t, securityCluster(t), func(c *Config) {
		policy(c)
		c.Logger = testkit.JSONLogger(logs, slog.LevelInfo)
	})
	viewer := h.clientAs("vera", "viewers")
	url := h.base + "/namespaces/team-b/deployments/db/replicas"
	wantError(t, do(t, viewer, "PUT", url, `{"replicaCount": 2}`), 403,
		`CN=vera (groups: viewers) may not scale deployment "db" in namespace "team-b"`)

	writePolicy(t, path, securityPolicy+"  - groups: [viewers]\n    verbs: [scale]\n    namespaces: [team-b]\n")
	h.eventually(func() bool { return do(t, viewer, "PUT", url, `{"replicaCount": 2}`).status == 200 })

	// A broken policy keeps the last good one, and the log says why.
	writePolicy(t, path, "rules:\n  - groups: [viewers]\n    verbs: [get, destroy]\n    namespaces: [\"*\"]\n")
	h.eventually(func() bool {
		return strings.Contains(string(logs.Bytes()), `line 3: rule 1: verbs entry \"destroy\" is not a verb`)
	})
	if a := do(t, viewer, "PUT", url, `{"replicaCount": 1}`); a.status != 200 {
		t.Fatalf("PUT after a broken policy = %d %s, want the last good policy", a.status, a.body)
	}

	// Taking the permission away works as well.
	writePolicy(t, path, securityPolicy)
	h.eventually(func() bool { return do(t, viewer, "PUT", url, `{"replicaCount": 2}`).status == 403 })
}

func TestNoPolicyWarnsAtStart(t *testing.T) {
	logs := &testkit.Buffer{}
	h := startReady(t, securityCluster(t), func(c *Config) { c.Logger = testkit.JSONLogger(logs, slog.LevelInfo) })
	if !strings.Contains(string(logs.Bytes()), `"level":"WARN","msg":"no --authorization-policy-file: every client with a verified certificate may read and scale every deployment"`) {
		t.Errorf("no warning about the missing policy in the log:\n%s", logs.Bytes())
	}
	if a := do(t, h.clientAs("eve"), "PUT", h.base+"/namespaces/team-b/deployments/db/replicas", `{"replicaCount": 4}`); a.status != 200 {
		t.Errorf("PUT without a policy = %d %s", a.status, a.body)
	}
}

func TestStartRefusesABadPolicy(t *testing.T) {
	cluster := securityCluster(t)
	_, policy := withPolicyFile(t, "rules:\n  - users: [a]\n    verbs: [get]\n    namespaces: [x]\n    deployment: [web]\n")
	cfg := &Config{ListenAddress: "127.0.0.1:0", OpsAddress: "127.0.0.1:0"}
	policy(cfg)
	// The TLS files of a harness that is not started.
	h := startWith(t, securityCluster(t), nil)
	cfg.TLS = h.server.cfg.TLS
	_, err := NewWithClient(cfg, cluster)
	if err == nil || !strings.Contains(err.Error(), `line 5: rule 1: unknown key "deployment"`) {
		t.Fatalf("NewWithClient = %v, want an error naming line 5", err)
	}
}

func TestWriteBurstOverTheLimit(t *testing.T) {
	h := startReady(t, securityCluster(t), func(c *Config) {
		c.WriteRateLimit = 0.01 // no refill during the test
		c.WriteBurst = 3
	})
	bob := h.clientAs("bob", "team-a")
	url := h.base + "/namespaces/team-a/deployments/web/replicas"
	for i := range 3 {
		if a := do(t, bob, "PUT", url, fmt.Sprintf(`{"replicaCount": %d}`, i+3)); a.status != 200 {
			t.Fatalf("PUT %d of the burst = %d %s", i+1, a.status, a.body)
		}
	}
	a := do(t, bob, "PUT", url, `{"replicaCount": 7}`)
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("PUT over the burst = %d %s, want 429", a.status, a.body)
	}
	retry, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || retry < 99 || retry > 100 {
		t.Errorf("Retry-After = %q, want about 100 (one request at 0.01/s)", a.header.Get("Retry-After"))
	}
	wantError(t, a, 429, fmt.Sprintf("too many write requests from CN=bob,O=team-a: the limit is 0.01 per second with bursts of 3; retry after %ds", retry))
	if n := h.cluster.ScaleUpdates(); n != 3 {
		t.Errorf("%d scale updates, want the 3 allowed", n)
	}
	// Reads and other identities are not limited by bob's writes.
	if a := do(t, bob, "GET", url, ""); a.status != 200 {
		t.Errorf("GET = %d %s", a.status, a.body)
	}
	if a := do(t, h.clientAs("alice"), "PUT", url, `{"replicaCount": 7}`); a.status != 200 {
		t.Errorf("another identity's PUT = %d %s", a.status, a.body)
	}
}

func TestMaxInflightRequestsEndToEnd(t *testing.T) {
	h := startReady(t, securityCluster(t), func(c *Config) {
		c.MaxInflightRequests = 1
		c.MinResourceVersionTimeout = time.Minute
	})
	// A GET waiting for a resourceVersion the cache never reaches holds the
	// only slot until its client gives up. The polling GETs below may take
	// the slot first, and then the held request is refused with 429: it
	// tries again until it is the one holding the slot.
	// The API moves on without a Deployment changing: a resourceVersion the
	// API has (not one ahead of it, which is refused at once) and the cache
	// never hears of.
	ahead := h.cluster.Advance(1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	held := make(chan error, 1)
	go func() {
		for {
			req, _ := http.NewRequestWithContext(ctx, "GET", h.base+"/deployments?minResourceVersion="+ahead, nil)
			resp, err := h.client.Do(req)
			if err != nil {
				held <- err
				return
			}
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusTooManyRequests:
				continue
			case resp.StatusCode == http.StatusGatewayTimeout && ctx.Err() != nil:
				// Cancelled: the server ended the wait and answered, and
				// the client's transport picked that answer over its own
				// cancellation (both were ready at once).
				held <- ctx.Err()
			default:
				held <- fmt.Errorf("the held request answered %d", resp.StatusCode)
			}
			return
		}
	}()
	var last answer
	h.eventually(func() bool {
		last = do(t, h.client, "GET", h.base+"/deployments", "")
		return last.status == http.StatusTooManyRequests
	})
	wantError(t, last, 429, "the server has too many requests in flight; retry after 1s")
	if got := last.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want 1", got)
	}
	cancel()
	if err := <-held; !errors.Is(err, context.Canceled) {
		t.Errorf("held request: %v", err)
	}
	h.eventually(func() bool { return do(t, h.client, "GET", h.base+"/deployments", "").status == 200 })
}

// mustCRL returns a PEM CRL of ca revoking the given certificates.
func mustCRL(t *testing.T, ca *certs.Pair, number int64, revoked ...*certs.Pair) []byte {
	t.Helper()
	tmpl := &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour)}
	for _, p := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: p.Cert.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

func TestRevokedCertificateRefusedEndToEnd(t *testing.T) {
	// A second client CA, trusted next to the harness's, issues the
	// certificates of this test and signs the CRL.
	ca, err := certs.NewCA("team CA")
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := ca.IssueClient("mallory", nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := ca.IssueClient("bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	crlFile := filepath.Join(t.TempDir(), "crl.pem")
	h := startReady(t, securityCluster(t), func(c *Config) {
		bundle, err := os.ReadFile(c.TLS.ClientCAFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := certs.WriteFile(c.TLS.ClientCAFile, append(bundle, ca.CertPEM...), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crlFile, mustCRL(t, ca, 1, mallory), 0o600); err != nil {
			t.Fatal(err)
		}
		c.TLS.ClientCRLFile = crlFile
	})

	if _, err := try(h.clientWith(mallory), "GET", h.base+"/health", ""); err == nil || !strings.Contains(err.Error(), "bad certificate") {
		t.Fatalf("GET with a revoked certificate: %v, want the handshake refused", err)
	}
	if a := do(t, h.clientWith(bob), "GET", h.base+"/health", ""); a.status != 200 {
		t.Fatalf("GET with a good certificate = %d", a.status)
	}

	// Revoked without a restart. bob's client keeps its connection open
	// and its session tickets: the open connection is answered 403 and
	// closed, and the next handshake, resumed or not, is refused.
	bobClient := h.clientWith(bob)
	bobClient.Transport.(*http.Transport).TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	if a := do(t, bobClient, "GET", h.base+"/health", ""); a.status != 200 {
		t.Fatalf("GET before the revocation = %d", a.status)
	}
	tmp := crlFile + ".tmp"
	if err := os.WriteFile(tmp, mustCRL(t, ca, 2, mallory, bob), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, crlFile); err != nil {
		t.Fatal(err)
	}
	var last answer
	h.eventually(func() bool {
		last = do(t, bobClient, "GET", h.base+"/namespaces/team-a/deployments/web/replicas", "")
		return last.status != 200
	})
	wantError(t, last, http.StatusForbidden, "the client certificate has been revoked")
	if _, err := try(bobClient, "GET", h.base+"/health", ""); err == nil || !strings.Contains(err.Error(), "bad certificate") {
		t.Fatalf("GET after the revocation: %v, want the handshake refused", err)
	}
}

// rawConn opens a TLS connection to the API speaking HTTP/1.1, presenting
// the harness client's certificate; readBuffer, when positive, shrinks the
// socket's receive buffer first.
func (h *harness) rawConn(readBuffer int) *tls.Conn {
	h.t.Helper()
	tcp, err := net.Dial("tcp", h.server.APIAddr().String())
	if err != nil {
		h.t.Fatal(err)
	}
	if readBuffer > 0 {
		if err := tcp.(*net.TCPConn).SetReadBuffer(readBuffer); err != nil {
			h.t.Fatal(err)
		}
	}
	cfg := h.client.Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.ServerName = "127.0.0.1"
	cfg.NextProtos = []string{"http/1.1"}
	conn := tls.Client(tcp, cfg)
	if err := conn.Handshake(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestSlowlorisIsCutOffAfterTheHeaderTimeout(t *testing.T) {
	h := startReady(t, securityCluster(t), func(c *Config) { c.ReadHeaderTimeout = 300 * time.Millisecond })
	conn := h.rawConn(0)
	// Headers trickle in, one byte at a time, and never end.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		if _, err := io.WriteString(conn, "GET /api/v1/health HTTP/1.1\r\nHost: replicasd\r\nX-Slow: "); err != nil {
			return
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	// The test's bound is far above the header timeout and below the read
	// timeout (15s), so only the header timeout can pass it.
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("the server kept a slowloris connection open for 10s (read %q)", got)
	}
	if strings.HasPrefix(string(got), "HTTP/1.1 200") {
		t.Fatalf("the server answered an unfinished request: %q", got)
	}
	// A client that sends its headers at once is served.
	if a := do(t, h.client, "GET", h.base+"/health", ""); a.status != 200 {
		t.Errorf("GET /health = %d", a.status)
	}
}

func TestAPIServerTimeouts(t *testing.T) {
	tests := []struct {
		name                  string
		cfg                   Config
		wantHeader, wantWrite time.Duration
	}{
		{name: "defaults", cfg: Config{ReadYourWritesTimeout: 5 * time.Second, MinResourceVersionTimeout: 5 * time.Second},
			wantHeader: 5 * time.Second, wantWrite: 25 * time.Second},
		{name: "write timeout follows the longest wait", cfg: Config{ReadYourWritesTimeout: 5 * time.Second, MinResourceVersionTimeout: 30 * time.Second},
			wantHeader: 5 * time.Second, wantWrite: 50 * time.Second},
		{name: "overrides", cfg: Config{ReadHeaderTimeout: time.Second, WriteTimeout: 2 * time.Second, MinResourceVersionTimeout: time.Hour},
			wantHeader: time.Second, wantWrite: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(&tt.cfg, http.NotFoundHandler(), nil, nil)
			if srv.ReadHeaderTimeout != tt.wantHeader || srv.WriteTimeout != tt.wantWrite {
				t.Errorf("ReadHeaderTimeout %v, WriteTimeout %v; want %v, %v", srv.ReadHeaderTimeout, srv.WriteTimeout, tt.wantHeader, tt.wantWrite)
			}
			if srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
				t.Errorf("ReadTimeout %v, IdleTimeout %v, MaxHeaderBytes %d: each must be set", srv.ReadTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
			}
		})
	}
}

func TestSlowReaderIsCutOffAfterTheWriteTimeout(t *testing.T) {
	ca, err := certs.NewCA("test-ca")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.IssueServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	// An answer of 64 MiB, far more than the socket buffers between the
	// server and a client that reads nothing can hold.
	written := make(chan error, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 64<<10)
		for range 1 << 10 {
			if _, err := w.Write(chunk); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	})
	srv := newAPIServer(&Config{WriteTimeout: 300 * time.Millisecond}, handler,
		&tls.Config{Certificates: []tls.Certificate{pair.TLSCertificate()}, MinVersion: tls.VersionTLS13}, log.New(io.Discard, "", 0))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })

	tcp, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	if err := tcp.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	conn := tls.Client(tcp, &tls.Config{RootCAs: ca.CertPool(), ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}})
	if _, err := io.WriteString(conn, "GET /big HTTP/1.1\r\nHost: replicasd\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-written:
		var netErr net.Error
		if err == nil {
			t.Fatal("the server wrote 64 MiB to a client that reads nothing")
		}
		if !errors.As(err, &netErr) || !netErr.Timeout() {
			t.Fatalf("the write failed with %v, want the write timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server was still writing to a client that reads nothing after 10s")
	}
}
