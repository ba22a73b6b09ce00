package tlsconfig_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/identity"
	"github.com/replicasd/replicasd/src/testkit"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// waitTimeout bounds every wait; it only matters when a test fails.
const waitTimeout = 10 * time.Second

// fixture is a directory holding a server certificate, its key and a client
// CA bundle, with the CAs that issued them.
type fixture struct {
	dir      string
	cfg      tlsconfig.Config
	serverCA *certs.Pair // issues server certificates; clients trust it
	clientCA *certs.Pair // the client CA file's content
	server   *certs.Pair
	roots    *x509.CertPool // what clients trust: every server CA so far
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{
		dir: dir,
		cfg: tlsconfig.Config{
			CertFile:     filepath.Join(dir, "tls.crt"),
			KeyFile:      filepath.Join(dir, "tls.key"),
			ClientCAFile: filepath.Join(dir, "ca.crt"),
		},
		serverCA: mustCA(t, "server CA"),
		clientCA: mustCA(t, "client CA"),
		roots:    x509.NewCertPool(),
	}
	f.roots.AddCert(f.serverCA.Cert)
	f.server = mustServer(t, f.serverCA)
	f.writeFiles(t, f.server, f.clientCA.CertPEM)
	return f
}

// writeFiles replaces the three files, each atomically: CA bundle, key, then
// certificate.
func (f *fixture) writeFiles(t testing.TB, server *certs.Pair, caBundle []byte) {
	t.Helper()
	if err := certs.WriteFile(f.cfg.ClientCAFile, caBundle, certs.CertFileMode); err != nil {
		t.Fatal(err)
	}
	if err := server.WriteFiles(f.cfg.CertFile, f.cfg.KeyFile); err != nil {
		t.Fatal(err)
	}
}

// rotate makes a new server CA and server certificate and a new client CA,
// and returns them; the caller writes them.
func (f *fixture) rotate(t *testing.T) (server, clientCA *certs.Pair) {
	t.Helper()
	serverCA := mustCA(t, "new server CA")
	f.roots.AddCert(serverCA.Cert)
	return mustServer(t, serverCA), mustCA(t, "new client CA")
}

func mustCA(t testing.TB, cn string, opts ...certs.Option) *certs.Pair {
	t.Helper()
	ca, err := certs.NewCA(cn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func mustServer(t testing.TB, ca *certs.Pair) *certs.Pair {
	t.Helper()
	p, err := ca.IssueServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustClient(t testing.TB, ca *certs.Pair, cn string, orgs []string, opts ...certs.Option) *certs.Pair {
	t.Helper()
	p, err := ca.IssueClient(cn, orgs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newReloader returns a Reloader with a short debounce, to keep tests quick.
func newReloader(t *testing.T, cfg tlsconfig.Config, opts ...tlsconfig.Option) *tlsconfig.Reloader {
	t.Helper()
	opts = append([]tlsconfig.Option{tlsconfig.WithDebounce(20 * time.Millisecond)}, opts...)
	r, err := tlsconfig.New(cfg, testkit.TestLogger(t), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// runReloader runs r.Run until the test ends, and returns once it watches
// the files.
func runReloader(t *testing.T, r *tlsconfig.Reloader) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-tlsconfig.Watching(r):
	case <-time.After(waitTimeout):
		t.Fatal("Run did not start watching")
	}
}

// server is a real HTTPS server using the Reloader's TLSConfig, answering
// with the identity the middleware found.
type server struct {
	url  string // for HTTP clients
	addr string // for TLS clients
	hits atomic.Int32
}

func startServer(t *testing.T, r *tlsconfig.Reloader) *server {
	t.Helper()
	s := &server{}
	handler := identity.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.hits.Add(1)
		id, ok := identity.From(req.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(id)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler:   handler,
		TLSConfig: r.TLSConfig(),
		// Refused handshakes are the point of many tests; keep them quiet.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	s.addr = ln.Addr().String()
	s.url = "https://" + s.addr + "/"
	return s
}

// clientConfig returns a client TLS configuration trusting f.roots and
// presenting cert (none if nil) whatever CAs the server asks for, as a
// misconfigured or hostile client would.
func clientConfig(f *fixture, cert *certs.Pair, mods ...func(*tls.Config)) *tls.Config {
	cfg := &tls.Config{RootCAs: f.roots}
	if cert != nil {
		tc := cert.TLSCertificate()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tc, nil }
	}
	for _, mod := range mods {
		mod(cfg)
	}
	return cfg
}

// newClient returns an HTTP client for clientConfig(f, cert, mods...). Each
// request opens a new connection, so each is a new handshake.
func newClient(f *fixture, cert *certs.Pair, mods ...func(*tls.Config)) *http.Client {
	return &http.Client{
		Timeout: waitTimeout,
		Transport: &http.Transport{
			TLSClientConfig:   clientConfig(f, cert, mods...),
			ForceAttemptHTTP2: true,
			DisableKeepAlives: true,
		},
	}
}

// response is what a successful request returned.
type response struct {
	identity identity.Identity
	tls      *tls.ConnectionState
	proto    string
}

func get(c *http.Client, url string) (*response, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	out := &response{tls: resp.TLS, proto: resp.Proto}
	if err := json.Unmarshal(body, &out.identity); err != nil {
		return nil, fmt.Errorf("decoding %q: %w", body, err)
	}
	return out, nil
}

func mustGet(t *testing.T, c *http.Client, url string) *response {
	t.Helper()
	resp, err := get(c, url)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	return resp
}

// wantRefused checks that the server refuses the handshake with the TLS
// alert alert. It speaks TLS directly, because an HTTP/2 client reports a
// refused handshake without the alert.
func wantRefused(t *testing.T, cfg *tls.Config, addr, alert string) {
	t.Helper()
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	dialer := &net.Dialer{Timeout: waitTimeout}
	conn, err := tls.DialWithDialer(dialer, "tcp", addr, cfg)
	if err == nil {
		// TLS 1.3 clients finish their side of the handshake before the
		// server checks their certificate: its verdict comes with the
		// first read. A request makes an accepted connection answer at once.
		defer func() { _ = conn.Close() }()
		_ = conn.SetDeadline(time.Now().Add(waitTimeout))
		_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: replicasd\r\nConnection: close\r\n\r\n")
		var reply []byte
		// Even when the write failed because the server had already closed
		// the connection, its alert waits in the socket: read it.
		reply, rerr := io.ReadAll(conn)
		switch {
		case err == nil && rerr == nil:
			t.Fatalf("server answered %q, want the handshake refused with %q", reply, alert)
		case rerr != nil:
			err = rerr
		}
	}
	if want := "remote error: tls: " + alert; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want one containing %q", err, want)
	}
}

// serving returns a condition: r serves server and trusts exactly clientCA.
func serving(r *tlsconfig.Reloader, server, clientCA *certs.Pair) func() error {
	return func() error {
		if got := r.ServerCertificate(); !got.Equal(server.Cert) {
			return fmt.Errorf("serving certificate %x, want %x", got.SerialNumber, server.Cert.SerialNumber)
		}
		if cas := r.ClientCAs(); len(cas) != 1 || !cas[0].Equal(clientCA.Cert) {
			return fmt.Errorf("trusting %d client CAs, not only %q", len(cas), clientCA.Cert.Subject)
		}
		return nil
	}
}

func writeRaw(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
