package handshakes_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/handshakes"
	"github.com/replicasd/replicasd/src/testkit"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// waitTimeout bounds every wait; it only matters when a test fails.
const waitTimeout = 10 * time.Second

type server struct {
	addr     string
	ca       *certs.Pair // the client CA
	roots    *x509.CertPool
	failures chan handshakes.Failure
	logs     *testkit.Buffer
}

// newReloader returns a tlsconfig.Reloader serving a certificate of a new
// CA that also issues the trusted client certificates, and that CA.
func newReloader(t *testing.T, minVersion uint16) (*tlsconfig.Reloader, *certs.Pair) {
	t.Helper()
	dir := t.TempDir()
	ca, err := certs.NewCA("client CA")
	if err != nil {
		t.Fatal(err)
	}
	srvPair, err := ca.IssueServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tlsconfig.Config{
		CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key"),
		ClientCAFile: filepath.Join(dir, "ca.crt"), MinVersion: minVersion,
	}
	if err := srvPair.WriteFiles(cfg.CertFile, cfg.KeyFile); err != nil {
		t.Fatal(err)
	}
	if err := certs.WriteFile(cfg.ClientCAFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	reloader, err := tlsconfig.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return reloader, ca
}

// startServer serves HTTPS the way the app does: a tlsconfig.Reloader's
// configuration wrapped by the Watcher, which is also the ErrorLog.
func startServer(t *testing.T) *server {
	t.Helper()
	reloader, ca := newReloader(t, 0)
	s := &server{ca: ca, roots: ca.CertPool(), failures: make(chan handshakes.Failure, 10), logs: &testkit.Buffer{}}
	logger := testkit.JSONLogger(s.logs, slog.LevelDebug)
	w := handshakes.New(logger, func(f handshakes.Failure) { s.failures <- f })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	hs := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }),
		TLSConfig: w.Config(reloader.TLSConfig()),
		ErrorLog:  w.ErrorLog(),
	}
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = hs.Close() })
	return s
}

// next returns the next failure, failing the test when none comes.
func (s *server) next(t *testing.T) handshakes.Failure {
	t.Helper()
	select {
	case f := <-s.failures:
		return f
	case <-time.After(waitTimeout):
		t.Fatal("no handshake failure reported")
		return handshakes.Failure{}
	}
}

// noMore checks that nothing else was reported, after a handshake that
// must succeed has gone through the same server.
func (s *server) noMore(t *testing.T) {
	t.Helper()
	client := s.client(s.mustClient(t, s.ca, "alice"))
	resp, err := client.Get("https://" + s.addr + "/")
	if err != nil {
		t.Fatalf("a good client was refused: %v", err)
	}
	resp.Body.Close()
	select {
	case f := <-s.failures:
		t.Fatalf("one handshake reported twice, or a good one reported: %+v", f)
	default:
	}
}

func (s *server) mustClient(t *testing.T, ca *certs.Pair, cn string, opts ...certs.Option) *certs.Pair {
	t.Helper()
	p, err := ca.IssueClient(cn, []string{"dev"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *server) tlsConfig(cert *certs.Pair) *tls.Config {
	c := &tls.Config{RootCAs: s.roots, ServerName: "localhost"}
	if cert != nil {
		// Sent whatever the server asks for: Go's client would otherwise
		// send no certificate to a server that names other CAs.
		tc := cert.TLSCertificate()
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &tc, nil }
	}
	return c
}

func (s *server) client(cert *certs.Pair) *http.Client {
	return &http.Client{Timeout: waitTimeout, Transport: &http.Transport{TLSClientConfig: s.tlsConfig(cert)}}
}

func TestWatcherReportsEachFailedHandshakeOnce(t *testing.T) {
	s := startServer(t)
	otherCA, err := certs.NewCA("other CA")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tests := []struct {
		name       string
		connect    func(t *testing.T)
		wantReason string
		wantClient string // CN of the identity reported, "" for none
	}{
		{
			name:       "no certificate",
			connect:    func(t *testing.T) { s.handshake(t, s.tlsConfig(nil)) },
			wantReason: handshakes.NoCertificate,
		},
		{
			name:       "unknown authority",
			connect:    func(t *testing.T) { s.handshake(t, s.tlsConfig(s.mustClient(t, otherCA, "bob"))) },
			wantReason: handshakes.UnknownAuthority,
		},
		{
			name: "expired",
			connect: func(t *testing.T) {
				s.handshake(t, s.tlsConfig(s.mustClient(t, s.ca, "bob", certs.WithValidity(now.Add(-48*time.Hour), now.Add(-time.Hour)))))
			},
			wantReason: handshakes.Expired,
		},
		{
			name: "serverAuth only",
			connect: func(t *testing.T) {
				s.handshake(t, s.tlsConfig(s.mustClient(t, s.ca, "bob", certs.WithExtKeyUsage(x509.ExtKeyUsageServerAuth))))
			},
			wantReason: handshakes.BadUsage,
		},
		{
			// Refused by tlsconfig's VerifyConnection, after crypto/tls
			// parsed it: the identity is known.
			name: "no extended key usage",
			connect: func(t *testing.T) {
				s.handshake(t, s.tlsConfig(s.mustClient(t, s.ca, "carol", certs.WithExtKeyUsage())))
			},
			wantReason: handshakes.BadUsage, wantClient: "carol",
		},
		{
			name: "plain HTTP",
			connect: func(t *testing.T) {
				resp, err := http.Get("http://" + s.addr + "/")
				if err == nil {
					resp.Body.Close()
				}
			},
			wantReason: handshakes.Protocol,
		},
		{
			name: "old TLS version",
			connect: func(t *testing.T) {
				c := s.tlsConfig(s.mustClient(t, s.ca, "bob"))
				c.MaxVersion = tls.VersionTLS12
				s.handshake(t, c)
			},
			wantReason: handshakes.Protocol,
		},
		{
			name: "hang-up before the handshake",
			connect: func(t *testing.T) {
				conn, err := net.Dial("tcp", s.addr)
				if err != nil {
					t.Fatal(err)
				}
				conn.Close()
			},
			wantReason: handshakes.Other,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.connect(t)
			f := s.next(t)
			if f.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q (error %q)", f.Reason, tt.wantReason, f.Error)
			}
			if host, _, err := net.SplitHostPort(f.RemoteAddr); err != nil || host != "127.0.0.1" {
				t.Errorf("remote address = %q, want 127.0.0.1:PORT", f.RemoteAddr)
			}
			switch {
			case tt.wantClient == "" && f.Client != nil:
				t.Errorf("client = %+v, want none", *f.Client)
			case tt.wantClient != "" && (f.Client == nil || f.Client.User != tt.wantClient || f.Client.Serial == ""):
				t.Errorf("client = %+v, want user %q with a serial", f.Client, tt.wantClient)
			}
			if f.Error == "" || f.Time.IsZero() {
				t.Errorf("failure = %+v, want its error and time", f)
			}
			s.noMore(t)
		})
	}
	logs := s.logs.String()
	if n := strings.Count(logs, `"msg":"TLS handshake failed"`); n != len(tests) {
		t.Errorf("%d debug lines for %d failed handshakes:\n%s", n, len(tests), logs)
	}
	if !strings.Contains(logs, `"level":"DEBUG","msg":"TLS handshake failed","remoteAddr":"127.0.0.1:`) ||
		!strings.Contains(logs, `"reason":"unknown_authority"`) {
		t.Errorf("debug lines lack the address or reason:\n%s", logs)
	}
}

// handshake dials with cfg and reads once: in TLS 1.3 the client only
// learns of a refused certificate from the server's alert.
func (s *server) handshake(t *testing.T, cfg *tls.Config) {
	t.Helper()
	conn, err := tls.Dial("tcp", s.addr, cfg)
	if err != nil {
		return
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("the server answered a client it should have refused")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name, msg, want string
	}{
		{"missing certificate", "tls: client didn't provide a certificate", handshakes.NoCertificate},
		{"unknown authority", "tls: failed to verify certificate: x509: certificate signed by unknown authority", handshakes.UnknownAuthority},
		{"reload removed the CA", "tlsconfig: client certificate no longer trusted after a reload: x509: certificate signed by unknown authority", handshakes.UnknownAuthority},
		{"expired", "tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-01-01T00:00:00Z is after 2025-01-01T00:00:00Z", handshakes.Expired},
		{"x509 usage", "tls: failed to verify certificate: x509: certificate specifies an incompatible key usage", handshakes.BadUsage},
		{"tlsconfig usage", `tlsconfig: client certificate "CN=bob" lacks the clientAuth extended key usage`, handshakes.BadUsage},
		{"plain HTTP", "client sent an HTTP request to an HTTPS server", handshakes.Protocol},
		{"versions", "tls: client offered only unsupported versions: [303 302 301]", handshakes.Protocol},
		{"ciphers", "tls: no cipher suite supported by both client and server", handshakes.Protocol},
		{"not TLS", "tls: first record does not look like a TLS handshake", handshakes.Protocol},
		{"client refuses our certificate", "remote error: tls: bad certificate", handshakes.Other},
		{"client does not know our CA", "remote error: tls: unknown certificate authority", handshakes.Other},
		{"client protocol alert", "remote error: tls: protocol version not supported", handshakes.Protocol},
		{"revoked", `tlsconfig: client certificate "CN=bob" (serial 1f) is revoked by the client CRL`, handshakes.Other},
		{"hang-up", "EOF", handshakes.Other},
		{"reset", "read tcp 127.0.0.1:8443->127.0.0.1:5555: read: connection reset by peer", handshakes.Other},
		{"timeout", "read tcp 127.0.0.1:8443->127.0.0.1:5555: i/o timeout", handshakes.Other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := handshakes.Classify(tt.msg); got != tt.want {
				t.Errorf("Classify(%q) = %q, want %q", tt.msg, got, tt.want)
			}
		})
	}
}

func TestWatcherPassesOtherLinesOn(t *testing.T) {
	var logs testkit.Buffer
	var failures int
	w := handshakes.New(testkit.JSONLogger(&logs, slog.LevelDebug),
		func(handshakes.Failure) { failures++ })
	w.ErrorLog().Printf("http: panic serving 127.0.0.1:1234: boom\ngoroutine 1 [running]:\n...")
	w.ErrorLog().Printf("http2: server: error reading preface from client 127.0.0.1:1234: EOF")
	w.ErrorLog().Printf("http: TLS handshake error from [::1]:4242: EOF")
	out := logs.String()
	for _, want := range []string{
		`"level":"ERROR","msg":"API server: http: panic serving 127.0.0.1:1234: boom"`,
		`"level":"DEBUG","msg":"API server: http2: server: error reading preface`,
		`"msg":"TLS handshake failed","remoteAddr":"[::1]:4242","reason":"other","error":"EOF"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "goroutine 1") {
		t.Errorf("the stack trace leaked into the one-line message:\n%s", out)
	}
	if failures != 1 {
		t.Errorf("%d failures reported, want 1", failures)
	}
}
