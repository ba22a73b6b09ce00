package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultTimeout bounds each request when Config.Timeout is zero. A PUT
// waits for the server's cache (read-your-writes), so it is generous.
const DefaultTimeout = 30 * time.Second

// apiPrefix is the base path of API v1.
const apiPrefix = "/api/v1"

// Config says where the server is and how to authenticate to it.
type Config struct {
	// Server is the server's base URL, https://HOST:PORT. A trailing
	// /api/v1 is accepted; a URL without a scheme gets https://.
	Server string
	// CertFile and KeyFile are the PEM client certificate and key.
	CertFile, KeyFile string
	// CAFile is a PEM bundle of CAs to trust for the server certificate;
	// empty means the system's trust store.
	CAFile string
	// TLSConfig, when set, is used (cloned) instead of the three files.
	TLSConfig *tls.Config
	// Timeout bounds each request, including reading the answer; zero
	// means DefaultTimeout, negative means none (the context still applies).
	Timeout time.Duration
	// UserAgent is sent with every request; empty means "replicasd-client".
	UserAgent string
}

// Client talks to one replicasd server. It is safe for concurrent use.
type Client struct {
	base       *url.URL
	http       *http.Client
	userAgent  string
	clientCert *x509.Certificate
	// tlsConfig is the transport's, for serverAlert's second connection.
	tlsConfig *tls.Config
}

// New checks cfg, loads the certificate files and returns a Client. It
// does not connect.
func New(cfg Config) (*Client, error) {
	base, err := parseServer(cfg.Server)
	if err != nil {
		return nil, err
	}
	tlsConfig, leaf, err := buildTLSConfig(cfg)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		timeout = 0
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	// The API never redirects; following one could resend a PUT elsewhere.
	httpClient := &http.Client{
		Transport:     transport,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "replicasd-client"
	}
	return &Client{base: base, http: httpClient, userAgent: ua, clientCert: leaf, tlsConfig: tlsConfig}, nil
}

// Server returns the normalised base URL, e.g. https://localhost:8443.
func (c *Client) Server() string { return c.base.String() }

// ClientCertificate returns the certificate the client presents, nil when
// it has none (or it is chosen per connection by a custom TLSConfig).
func (c *Client) ClientCertificate() *x509.Certificate { return c.clientCert }

// CloseIdleConnections closes the connections kept for reuse.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// parseServer normalises the server URL to scheme://host[:port].
func parseServer(server string) (*url.URL, error) {
	server = strings.TrimSpace(server)
	if server == "" {
		return nil, errors.New("no server URL given")
	}
	if !strings.Contains(server, "://") {
		server = "https://" + server
	}
	u, err := url.Parse(server)
	if err != nil {
		return nil, fmt.Errorf("invalid server URL %q: %w", server, err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("invalid server URL %q: the scheme must be https (the API only speaks mutual TLS)", server)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q: no host", server)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("invalid server URL %q: give only https://HOST:PORT", server)
	}
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), apiPrefix)
	if path != "" && path != "/" {
		return nil, fmt.Errorf("invalid server URL %q: unexpected path %q; give https://HOST:PORT", server, u.Path)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// buildTLSConfig returns the client's TLS configuration and the leaf of its
// certificate (nil when unknown).
func buildTLSConfig(cfg Config) (*tls.Config, *x509.Certificate, error) {
	if cfg.TLSConfig != nil {
		tc := cfg.TLSConfig.Clone()
		var leaf *x509.Certificate
		if len(tc.Certificates) > 0 {
			leaf = certLeaf(&tc.Certificates[0])
		}
		return tc, leaf, nil
	}
	var errs []error
	if cfg.CertFile == "" {
		errs = append(errs, errors.New("no client certificate file given"))
	}
	if cfg.KeyFile == "" {
		errs = append(errs, errors.New("no client key file given"))
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("loading client certificate %s and key %s: %w", cfg.CertFile, cfg.KeyFile, err)
	}
	tc := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Always present the certificate, even when the server's list of
		// acceptable CAs does not name its issuer: the server then says
		// why it refuses it (unknown CA, expired) instead of the client
		// silently sending none and getting "certificate required".
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("CA file %s holds no PEM certificate", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, certLeaf(&cert), nil
}

func certLeaf(cert *tls.Certificate) *x509.Certificate {
	if cert.Leaf != nil {
		return cert.Leaf
	}
	if len(cert.Certificate) == 0 {
		return nil
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil
	}
	return leaf
}
