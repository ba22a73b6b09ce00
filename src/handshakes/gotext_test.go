package handshakes_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/handshakes"
)

// startRawServer serves the app's TLS configuration with crypto/tls alone
// (no net/http), so the test sees each handshake's error as Go returns it,
// typed, before net/http flattens it to the text Classify reads.
func startRawServer(t *testing.T, minVersion uint16) (*server, <-chan error) {
	t.Helper()
	reloader, ca := newReloader(t, minVersion)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	errs := make(chan error, 10)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.SetDeadline(time.Now().Add(waitTimeout))
			errs <- tls.Server(conn, reloader.TLSConfig()).Handshake()
			_ = conn.Close()
		}
	}()
	return &server{addr: ln.Addr().String(), ca: ca, roots: ca.CertPool()}, errs
}

// sendRaw writes bytes that are not a TLS ClientHello and hangs up.
func sendRaw(t *testing.T, addr, data string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, data)
	_ = conn.SetReadDeadline(time.Now().Add(waitTimeout))
	_, _ = conn.Read(make([]byte, 1)) // the server's alert, or its hang-up
}

func invalidBecause(reason x509.InvalidReason) func(error) bool {
	return func(err error) bool {
		var invalid x509.CertificateInvalidError
		return errors.As(err, &invalid) && invalid.Reason == reason
	}
}

// TestClassifyGoErrorTexts provokes each handshake failure that crypto/tls
// reports on its own against a real crypto/tls server, and checks that
// Classify still reads the text Go gives it as the right reason. net/http
// hands the Watcher nothing but that text, so Classify must match words of
// the standard library: when a Go upgrade rewords one, this test fails.
// Where Go types the error, the test also checks the type, the stable
// thing to switch to if net/http ever passes the error itself on.
func TestClassifyGoErrorTexts(t *testing.T) {
	otherCA, err := certs.NewCA("other CA")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tls12 := func(c *tls.Config) *tls.Config { c.MaxVersion = tls.VersionTLS12; return c }
	tests := []struct {
		name       string
		minVersion uint16
		provoke    func(t *testing.T, s *server)
		typed      func(error) bool // what Go types; nil when only the text says it
		want       string
	}{
		{
			name:    "no certificate",
			provoke: func(t *testing.T, s *server) { s.handshake(t, s.tlsConfig(nil)) },
			want:    handshakes.NoCertificate,
		},
		{
			name:    "unknown authority",
			provoke: func(t *testing.T, s *server) { s.handshake(t, s.tlsConfig(s.mustClient(t, otherCA, "bob"))) },
			typed: func(err error) bool {
				var unknown x509.UnknownAuthorityError
				var verify *tls.CertificateVerificationError
				return errors.As(err, &unknown) && errors.As(err, &verify)
			},
			want: handshakes.UnknownAuthority,
		},
		{
			name: "expired",
			provoke: func(t *testing.T, s *server) {
				s.handshake(t, s.tlsConfig(s.mustClient(t, s.ca, "bob", certs.WithValidity(now.Add(-48*time.Hour), now.Add(-time.Hour)))))
			},
			typed: invalidBecause(x509.Expired),
			want:  handshakes.Expired,
		},
		{
			name: "serverAuth only",
			provoke: func(t *testing.T, s *server) {
				s.handshake(t, s.tlsConfig(s.mustClient(t, s.ca, "bob", certs.WithExtKeyUsage(x509.ExtKeyUsageServerAuth))))
			},
			typed: invalidBecause(x509.IncompatibleUsage),
			want:  handshakes.BadUsage,
		},
		{
			name:    "old TLS version",
			provoke: func(t *testing.T, s *server) { s.handshake(t, tls12(s.tlsConfig(s.mustClient(t, s.ca, "bob")))) },
			want:    handshakes.Protocol,
		},
		{
			name:       "no common cipher suite",
			minVersion: tls.VersionTLS12,
			provoke: func(t *testing.T, s *server) {
				c := tls12(s.tlsConfig(s.mustClient(t, s.ca, "bob")))
				c.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}
				s.handshake(t, c)
			},
			want: handshakes.Protocol,
		},
		{
			name:    "not TLS",
			provoke: func(t *testing.T, s *server) { sendRaw(t, s.addr, "SSH-2.0-OpenSSH_9.6\r\n") },
			typed:   func(err error) bool { var rh tls.RecordHeaderError; return errors.As(err, &rh) },
			want:    handshakes.Protocol,
		},
		{
			name: "SSLv2 hello",
			provoke: func(t *testing.T, s *server) {
				sendRaw(t, s.addr, "\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10")
			},
			typed: func(err error) bool { var rh tls.RecordHeaderError; return errors.As(err, &rh) },
			want:  handshakes.Protocol,
		},
		{
			// The client's alert: Go keeps the alert type unexported
			// (tls.AlertError is only for QUIC), so the text is all.
			name: "client refuses the server's certificate",
			provoke: func(t *testing.T, s *server) {
				c := s.tlsConfig(s.mustClient(t, s.ca, "bob"))
				c.RootCAs = otherCA.CertPool()
				s.handshake(t, c)
			},
			want: handshakes.Other,
		},
		{
			name: "hang-up",
			provoke: func(t *testing.T, s *server) {
				conn, err := net.Dial("tcp", s.addr)
				if err != nil {
					t.Fatal(err)
				}
				conn.Close()
			},
			typed: func(err error) bool { return errors.Is(err, io.EOF) },
			want:  handshakes.Other,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := startRawServer(t, tt.minVersion)
			tt.provoke(t, s)
			var err error
			select {
			case err = <-errs:
			case <-time.After(waitTimeout):
				t.Fatal("the server finished no handshake")
			}
			if err == nil {
				t.Fatal("the handshake succeeded")
			}
			if tt.typed != nil && !tt.typed(err) {
				t.Errorf("Go no longer types this failure as it did: %T %v", err, err)
			}
			if got := handshakes.Classify(err.Error()); got != tt.want {
				t.Errorf("Classify(%q) = %q, want %q: did Go reword the error?", err.Error(), got, tt.want)
			}
		})
	}
}
