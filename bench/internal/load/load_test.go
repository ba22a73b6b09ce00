package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name    string
		samples []Sample
		want    Sample
	}{
		{name: "none", samples: nil, want: Sample{}},
		{
			name: "odd count picks the middle of each field",
			samples: []Sample{
				{ReqPerSec: 100, P99: 9, CPU: map[string]float64{"s": 0.5}},
				{ReqPerSec: 300, P99: 1, CPU: map[string]float64{"s": 0.1}},
				{ReqPerSec: 200, P99: 5, CPU: map[string]float64{"s": 0.9}},
			},
			want: Sample{ReqPerSec: 200, P99: 5, CPU: map[string]float64{"s": 0.5}},
		},
		{
			name:    "even count averages the middle two",
			samples: []Sample{{ReqPerSec: 100}, {ReqPerSec: 300}},
			want:    Sample{ReqPerSec: 200},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Median(tt.samples)
			if got.ReqPerSec != tt.want.ReqPerSec || got.P99 != tt.want.P99 || got.CPU["s"] != tt.want.CPU["s"] {
				t.Errorf("Median = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestPoolUsesOneConnectionPerTransport checks that a closed-loop load of
// N workers opens exactly N connections, with keep-alive, over the
// protocol asked for, and a new connection per request without it.
func TestPoolUsesOneConnectionPerTransport(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	srv.EnableHTTP2 = true
	var mu sync.Mutex
	conns := 0
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	tests := []struct {
		name      string
		http2     bool
		keepAlive bool
		proto     string
		wantConns func(requests uint64) bool
	}{
		{name: "HTTP/2 kept", http2: true, keepAlive: true, proto: "h2", wantConns: func(uint64) bool { return conns == 4 }},
		{name: "HTTP/1.1 kept", keepAlive: true, proto: "http/1.1", wantConns: func(uint64) bool { return conns == 4 }},
		{name: "HTTP/1.1 new connections", proto: "http/1.1", wantConns: func(n uint64) bool { return uint64(conns) >= n }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			conns = 0
			mu.Unlock()
			s, err := Run(context.Background(), Spec{
				Name:     tt.name,
				Targeter: vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: srv.URL}),
				Pool:     PoolConfig{TLS: &tls.Config{RootCAs: roots}, HTTP2: tt.http2, KeepAlive: tt.keepAlive, Conns: 4},
				Duration: 200 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			if s.Protocol != tt.proto {
				t.Errorf("protocol %q, want %q", s.Protocol, tt.proto)
			}
			if s.Success != 1 || s.Requests == 0 {
				t.Errorf("success %v over %d requests, want every one", s.Success, s.Requests)
			}
			mu.Lock()
			defer mu.Unlock()
			if !tt.wantConns(s.Requests) {
				t.Errorf("%d connections for %d requests", conns, s.Requests)
			}
		})
	}
}
