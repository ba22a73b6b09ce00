package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is an http.RoundTripper over a fixed number of transports, each
// allowed one connection, so that a load of N workers uses exactly N
// connections whatever the protocol: Go's HTTP/2 transport would otherwise
// multiplex every worker over one connection, and its HTTP/1.1 transport
// would open as many as it likes.
type Pool struct {
	free chan *http.Transport
	all  []*http.Transport

	h2, h1 atomic.Int64
}

// PoolConfig configures NewPool.
type PoolConfig struct {
	// TLS is the client configuration (certificate, roots); it is cloned.
	TLS *tls.Config
	// HTTP2 negotiates h2 by ALPN; false offers only http/1.1.
	HTTP2 bool
	// KeepAlive false opens a new connection, with a full handshake, for
	// every request.
	KeepAlive bool
	// Conns is the number of connections (and transports).
	Conns int
}

// NewPool returns a Pool of cfg.Conns transports.
func NewPool(cfg PoolConfig) *Pool {
	p := &Pool{free: make(chan *http.Transport, cfg.Conns)}
	for range cfg.Conns {
		tc := cfg.TLS.Clone()
		// No session cache: every new connection is a full handshake.
		tc.ClientSessionCache = nil
		if cfg.HTTP2 {
			tc.NextProtos = []string{"h2", "http/1.1"}
		} else {
			tc.NextProtos = []string{"http/1.1"}
		}
		dialer := &net.Dialer{Timeout: 10 * time.Second}
		if !cfg.KeepAlive {
			dialer.KeepAlive = -1
		}
		t := &http.Transport{
			DialContext:         dialer.DialContext,
			TLSClientConfig:     tc,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxConnsPerHost:     1,
			MaxIdleConnsPerHost: 1,
			MaxIdleConns:        1,
			DisableKeepAlives:   !cfg.KeepAlive,
			DisableCompression:  true,
			ForceAttemptHTTP2:   cfg.HTTP2,
		}
		if !cfg.HTTP2 {
			// A non-nil empty map turns HTTP/2 off.
			t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		p.all = append(p.all, t)
		p.free <- t
	}
	return p
}

// RoundTrip sends req on a free transport, which stays taken until the
// response body is closed.
func (p *Pool) RoundTrip(req *http.Request) (*http.Response, error) {
	var t *http.Transport
	select {
	case t = <-p.free:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	resp, err := t.RoundTrip(req)
	if err != nil {
		p.free <- t
		return nil, err
	}
	if resp.ProtoMajor == 2 {
		p.h2.Add(1)
	} else {
		p.h1.Add(1)
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: func() { p.free <- t }}
	return resp, nil
}

// Protocols returns how many responses came over HTTP/2 and HTTP/1.x.
func (p *Pool) Protocols() (h2, h1 int64) { return p.h2.Load(), p.h1.Load() }

// Close closes every idle connection.
func (p *Pool) Close() {
	for _, t := range p.all {
		t.CloseIdleConnections()
	}
}

// Client returns an http.Client over p.
func (p *Pool) Client(timeout time.Duration) *http.Client {
	return &http.Client{Transport: p, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// releasingBody gives its transport back to the pool when closed.
type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// Do sends one request over a fresh single-use client and returns the body;
// for the checks before a row.
func Do(ctx context.Context, client *http.Client, method, url string, header http.Header, body []byte) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}
