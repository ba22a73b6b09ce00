package main

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/client"
)

// TestExplainConnection covers every kind of connection error, including
// those the other tests cannot provoke reliably (a reset that swallowed the
// server's alert, an expired server certificate).
func TestExplainConnection(t *testing.T) {
	const server = "https://replicasd.example:8443"
	valid := &x509.Certificate{
		Subject: pkix.Name{CommonName: "alice"}, Issuer: pkix.Name{CommonName: "team CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	expired := &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}, NotBefore: now.Add(-48 * time.Hour),
		NotAfter: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	future := &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}, NotBefore: time.Date(2999, 1, 2, 0, 0, 0, 0, time.UTC),
		NotAfter: time.Date(2999, 2, 2, 0, 0, 0, 0, time.UTC)}
	serverCert := &x509.Certificate{Issuer: pkix.Name{CommonName: "other CA"}, NotAfter: time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)}
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: server + "/api/v1/deployments", Err: err} }
	tgt := target{server: server, cert: "/certs/alice.crt", ca: "/certs/ca.crt"}

	tests := []struct {
		name   string
		kind   client.Kind
		cert   *x509.Certificate
		err    error
		target target
		want   string
	}{
		{name: "expired, told by the server", kind: client.KindClientCertExpired, cert: expired, err: wrap(errors.New("remote error: tls: expired certificate")),
			want: "your certificate /certs/alice.crt expired on 2026-01-02 (2026-01-02T03:04:05Z): the server refuses it; get a new one " +
				"(e.g. replicasd certs --out DIR --server=false --client alice) and pass it with --cert and --key"},
		{name: "expired, alert lost in a reset", kind: client.KindClosed, cert: expired, err: wrap(errors.New("read: connection reset by peer")),
			want: "your certificate /certs/alice.crt expired on 2026-01-02 (2026-01-02T03:04:05Z): the server refuses it; get a new one " +
				"(e.g. replicasd certs --out DIR --server=false --client alice) and pass it with --cert and --key"},
		{name: "not yet valid", kind: client.KindClientCertRejected, cert: future, err: wrap(errors.New("remote error: tls: bad certificate")),
			want: "your certificate /certs/alice.crt is not valid before 2999-01-02 (2999-01-02T00:00:00Z): the server refuses it; check this machine's clock, or wait"},
		{name: "expired by the server's clock only", kind: client.KindClientCertExpired, cert: valid, err: wrap(errors.New("remote error: tls: expired certificate")),
			want: "the server says your certificate expired, but by this machine's clock it has not: check the clocks of both machines"},
		{name: "reset with a valid certificate", kind: client.KindClosed, cert: valid, err: wrap(io.EOF),
			want: "the server at " + server + " closed the connection without answering: EOF (if this repeats, check that --server is " +
				"replicasd's API port and that your certificate /certs/alice.crt is signed by the server's client CA)"},
		{name: "unknown CA", kind: client.KindClientCertUnknownCA, cert: valid, err: wrap(errors.New("remote error: tls: unknown certificate authority")),
			want: `the server refused your certificate: it is not signed by the server's client CA (it is issued by "team CA"); check --cert and the server's --client-ca-file`},
		{name: "bad certificate", kind: client.KindClientCertRejected, cert: valid, err: wrap(errors.New("remote error: tls: bad certificate")),
			want: "the server refused your certificate (remote error: tls: bad certificate): it must be a client certificate " +
				"(extended key usage clientAuth) signed by the server's client CA; check --cert"},
		{name: "no certificate sent", kind: client.KindClientCertRequired, err: wrap(errors.New("remote error: tls: certificate required")),
			want: "the server requires a client certificate and got none: check --cert and --key"},
		{name: "timeout", kind: client.KindTimeout, err: wrap(context.DeadlineExceeded),
			want: "the server at " + server + " did not answer in time (check --server and the network, or raise --request-timeout): context deadline exceeded"},
		{name: "plain HTTP", kind: client.KindNotHTTPS, err: wrap(errors.New("http: server gave HTTP response to HTTPS client")),
			want: "the server at " + server + " answered in plain HTTP, not HTTPS: check that --server is replicasd's mTLS API port (default 8443), not its ops port"},
		{name: "untrusted, system roots", kind: client.KindServerCertUntrusted, err: wrap(x509.UnknownAuthorityError{Cert: serverCert}),
			target: target{server: server},
			want:   `server certificate not trusted: it is not signed by a CA in the system's trust store (it is issued by "other CA"); pass the server's CA with --ca`},
		{name: "wrong host", kind: client.KindServerNameMismatch, err: wrap(x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"localhost"}}, Host: "replicasd.example"}),
			want: "server certificate not valid for " + server + ": x509: certificate is valid for localhost, not replicasd.example; use a --server host name the certificate covers"},
		{name: "server certificate expired", kind: client.KindServerCertInvalid, err: wrap(x509.CertificateInvalidError{Cert: serverCert, Reason: x509.Expired}),
			want: "the server's certificate expired on 2025-05-06 (2025-05-06T07:08:09Z): its operator must renew it (or check this machine's clock)"},
		{name: "other TLS failure", kind: client.KindTLS, err: wrap(errors.New("remote error: tls: protocol version not supported")),
			want: "the TLS handshake with " + server + " failed: remote error: tls: protocol version not supported (the server may require TLS 1.3, or --server may not be replicasd)"},
		{name: "anything else", kind: client.KindOther, err: wrap(errors.New("something odd")),
			want: "the request to " + server + " failed: something odd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tgt := tgt
			if tt.target.server != "" {
				tgt = tt.target
			}
			err := fmt.Errorf("listing: %w", &client.ConnectionError{Kind: tt.kind, Server: server, ClientCert: tt.cert, Err: tt.err})
			msg, code := explain(err, tgt, now)
			if msg != tt.want || code != exitConnection {
				t.Errorf("explain = %d %q\nwant      %d %q", code, msg, exitConnection, tt.want)
			}
		})
	}
}

func TestExplainOther(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		want     string
		wantCode int
	}{
		{name: "canceled", err: fmt.Errorf("get: %w", context.Canceled), want: "interrupted", wantCode: exitRefused},
		{name: "plain error", err: errors.New("decoding the answer: bad JSON"), want: "decoding the answer: bad JSON", wantCode: exitRefused},
		{name: "conflict 409", err: &client.APIError{StatusCode: 409, Message: "the object has been modified"},
			want: "conflict: the object has been modified; run again", wantCode: exitRefused},
		{name: "5xx without a name", err: &client.APIError{StatusCode: 507, Message: "full"},
			want: "the server answered 507 Insufficient Storage: full", wantCode: exitServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, code := explain(tt.err, target{}, now)
			if msg != tt.want || code != tt.wantCode {
				t.Errorf("explain = %d %q, want %d %q", code, msg, tt.wantCode, tt.want)
			}
		})
	}
}
