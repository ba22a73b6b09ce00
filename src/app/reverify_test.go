package app

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// keepAliveAnswer is an answer and how its connection was used.
type keepAliveAnswer struct {
	answer
	reused bool // came on a connection opened before
	close  bool // the server closes the connection after it
	proto  string
}

// keepAliveClient returns a client presenting cert that keeps one
// connection open and reuses it, over HTTP/2 or HTTP/1.1.
func (h *harness) keepAliveClient(cert *certs.Pair, h2 bool) *http.Client {
	c := h.clientWith(cert)
	tr := c.Transport.(*http.Transport)
	tr.MaxConnsPerHost = 1
	tr.ForceAttemptHTTP2 = h2
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	if h2 {
		tr.TLSClientConfig.NextProtos = []string{"h2"}
	}
	h.t.Cleanup(tr.CloseIdleConnections)
	return c
}

func getKeepAlive(c *http.Client, url string) (keepAliveAnswer, error) {
	var out keepAliveAnswer
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return out, err
	}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { out.reused = info.Reused },
	}))
	resp, err := c.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	a, err := readAnswer(resp)
	out.answer, out.close, out.proto = a, resp.Close, resp.Proto
	return out, err
}

// replaceFile writes data to path atomically, as a Secret update does.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestOpenConnectionsLoseTrustEndToEnd runs the server, holds a client's
// connection open while its certificate stops verifying (its CA rotated out
// of --client-ca-file, revoked through --client-crl-file, or expired), and
// checks that its next request on that connection is 403 naming why, that
// the connection is closed, that the refusal is counted, and that another
// client's open connection keeps working.
func TestOpenConnectionsLoseTrustEndToEnd(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the files' change and bob's certificate, issued
		// by ca, the extra trusted CA whose CRL file is crlFile.
		setup   func(t *testing.T, ca *certs.Pair, crlFile string) (bob *certs.Pair, change func(h *harness))
		reason  string
		message string
	}{
		{
			name: "CA rotated out of the bundle",
			setup: func(t *testing.T, ca *certs.Pair, _ string) (*certs.Pair, func(*harness)) {
				bob, err := ca.IssueClient("bob", nil)
				if err != nil {
					t.Fatal(err)
				}
				return bob, func(h *harness) { replaceFile(t, h.server.cfg.TLS.ClientCAFile, h.ca.CertPEM) }
			},
			reason: tlsconfig.RefusedUnknownAuthority, message: "the client certificate's CA is no longer trusted",
		},
		{
			name: "revoked by a reloaded CRL",
			setup: func(t *testing.T, ca *certs.Pair, crlFile string) (*certs.Pair, func(*harness)) {
				bob, err := ca.IssueClient("bob", nil)
				if err != nil {
					t.Fatal(err)
				}
				return bob, func(*harness) { replaceFile(t, crlFile, mustCRL(t, ca, 2, bob)) }
			},
			reason: tlsconfig.RefusedRevoked, message: "the client certificate has been revoked",
		},
		{
			name: "expired while connected",
			setup: func(t *testing.T, ca *certs.Pair, _ string) (*certs.Pair, func(*harness)) {
				// Valid for a few seconds: long enough to connect on a
				// loaded machine, short enough to wait for.
				now := time.Now()
				bob, err := ca.IssueClient("bob", nil, certs.WithValidity(now.Add(-time.Minute), now.Add(4*time.Second)))
				if err != nil {
					t.Fatal(err)
				}
				return bob, func(*harness) {}
			},
			reason: tlsconfig.RefusedExpired, message: "the client certificate has expired",
		},
	}
	for _, tt := range tests {
		for _, h2 := range []bool{false, true} {
			proto := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[h2]
			t.Run(tt.name+" over "+proto, func(t *testing.T) {
				ca, err := certs.NewCA("team CA")
				if err != nil {
					t.Fatal(err)
				}
				crlFile := filepath.Join(t.TempDir(), "crl.pem")
				if err := os.WriteFile(crlFile, mustCRL(t, ca, 1), 0o600); err != nil {
					t.Fatal(err)
				}
				h := startReady(t, securityCluster(t), func(c *Config) {
					bundle, err := os.ReadFile(c.TLS.ClientCAFile)
					if err != nil {
						t.Fatal(err)
					}
					replaceFile(t, c.TLS.ClientCAFile, append(bundle, ca.CertPEM...))
					c.TLS.ClientCRLFile = crlFile
				})
				fams := scrape(t, h.ops)
				for _, reason := range tlsconfig.RefusalReasons {
					if v, ok := sample(fams, "replicasd_tls_reverify_refusals_total", "reason="+reason); !ok || v != 0 {
						t.Errorf("fresh scrape: replicasd_tls_reverify_refusals_total{reason=%q} = %v (present %v), want 0", reason, v, ok)
					}
				}
				bobCert, change := tt.setup(t, ca, crlFile)
				url := h.base + "/namespaces/team-a/deployments/web/replicas"
				bob := h.keepAliveClient(bobCert, h2)
				// carol's CA, the harness's, stays trusted.
				carolCert, err := h.ca.IssueClient("carol", nil)
				if err != nil {
					t.Fatal(err)
				}
				carol := h.keepAliveClient(carolCert, h2)
				for who, c := range map[string]*http.Client{"bob": bob, "carol": carol} {
					if a, err := getKeepAlive(c, url); err != nil || a.status != 200 || a.proto != proto {
						t.Fatalf("%s before the change: %+v %v, want 200 over %s", who, a, err, proto)
					}
				}

				change(h)
				var last keepAliveAnswer
				h.eventually(func() bool {
					var err error
					if last, err = getKeepAlive(bob, url); err != nil {
						t.Fatalf("bob on his open connection: %v", err)
					}
					return last.status != 200
				})
				if !last.reused {
					t.Fatal("bob's refused request came on a new connection: the test would prove nothing")
				}
				wantError(t, last.answer, http.StatusForbidden, tt.message)
				if !h2 && !last.close {
					t.Error("the HTTP/1.1 answer does not close the connection")
				}
				if a, err := getKeepAlive(carol, url); err != nil || a.status != 200 || !a.reused {
					t.Errorf("carol on her open connection after the change: %+v %v, want 200 on the same connection", a, err)
				}
				if v, _ := sample(scrape(t, h.ops), "replicasd_tls_reverify_refusals_total", "reason="+tt.reason); v != 1 {
					t.Errorf("replicasd_tls_reverify_refusals_total{reason=%q} = %v, want 1", tt.reason, v)
				}
				// The connection is closed: bob's next attempt is a new
				// handshake, refused (over HTTP/2, a request sent before
				// his client read the GOAWAY may meet the 403 again).
				h.eventually(func() bool {
					a, err := getKeepAlive(bob, url)
					if err == nil && (a.status != http.StatusForbidden || !a.reused) {
						t.Fatalf("bob's next attempt: %d (reused %v), want the handshake refused", a.status, a.reused)
					}
					return err != nil && (h2 || strings.Contains(err.Error(), "remote error: tls: "))
				})
			})
		}
	}
}

// readAnswer reads resp's body in full.
func readAnswer(resp *http.Response) (answer, error) {
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}, err
}
