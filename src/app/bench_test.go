package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/replicasd/replicasd/src/deployments/fakecluster"
)

// benchEnv is a running server and what a client needs to call it.
type benchEnv struct {
	server *Server
	base   string      // the API's base URL
	tls    *tls.Config // client configuration
}

// benchServer runs a whole server (TLS, middleware, handlers, cache) over
// a fake cluster of n Deployments on loopback. `go test -bench API
// -cpuprofile` on it profiles the full request path; make bench measures
// it against kube-apiserver.
func benchServer(b *testing.B, n int) *benchEnv {
	b.Helper()
	deps := make([]*appsv1.Deployment, n)
	for i := range deps {
		deps[i] = fakecluster.Deployment(fmt.Sprintf("ns-%d", i%10), fmt.Sprintf("d-%05d", i), int32(i%5), map[string]string{"app": fmt.Sprint(i)})
	}
	cluster, err := fakecluster.New(deps...)
	if err != nil {
		b.Fatal(err)
	}
	h := startWith(b, cluster, func(cfg *Config) {
		cfg.MaxReplicas = 1000
		cfg.CacheSyncTimeout = time.Minute
		// The flags' defaults, so the benchmark measures what runs by default.
		cfg.MaxInflightRequests = 400
		cfg.MaxInflightRequestsPerClient = 100
		cfg.AuditOutput = io.Discard
	})
	h.waitReady(time.Minute)
	return &benchEnv{
		server: h.server,
		base:   h.base,
		tls:    h.pki.clientTLS(),
	}
}

// BenchmarkAPI measures requests through the whole server over loopback
// TLS, client included: GET one and LIST over HTTP/2 and HTTP/1.1 on kept
// connections, and a new connection (full mTLS handshake) per request. The
// "baseline" cases send the same requests to a server with the same TLS
// configuration and a handler answering a constant body: the difference
// is what replicasd's middleware and handlers cost.
func BenchmarkAPI(b *testing.B) {
	env := benchServer(b, 1000)
	baseline := benchBaseline(b, env)
	const get = "/namespaces/ns-1/deployments/d-00001/replicas"
	for _, bc := range []struct {
		name      string
		base      string
		path      string
		http2     bool
		keepAlive bool
	}{
		{name: "get/h2", base: env.base, path: get, http2: true, keepAlive: true},
		{name: "get/h2/baseline", base: baseline, path: get, http2: true, keepAlive: true},
		{name: "get/http1.1", base: env.base, path: get, keepAlive: true},
		{name: "get/http1.1/baseline", base: baseline, path: get, keepAlive: true},
		{name: "list-1k/h2", base: env.base, path: "/deployments", http2: true, keepAlive: true},
		{name: "list-1k/http1.1", base: env.base, path: "/deployments", keepAlive: true},
		{name: "handshake/http1.1", base: env.base, path: get},
		{name: "handshake/http1.1/baseline", base: baseline, path: get},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tr := &http.Transport{
				TLSClientConfig:     env.tls.Clone(),
				ForceAttemptHTTP2:   bc.http2,
				DisableKeepAlives:   !bc.keepAlive,
				MaxIdleConnsPerHost: 64,
			}
			if !bc.http2 {
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			url := bc.base + bc.path
			b.ReportAllocs()
			start := processCPU(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("GET %s: status %d", bc.path, resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// benchBaseline serves, with env's server TLS configuration and timeouts,
// a constant body the size of a GET answer; it returns the base URL.
func benchBaseline(b *testing.B, env *benchEnv) string {
	b.Helper()
	body := []byte(`{"namespace":"ns-1","name":"d-00001","replicaCount":1,"resourceVersion":"1002","readyReplicas":1,"availableReplicas":1,"updatedReplicas":1}` + "\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := newAPIServer(env.server.cfg, constantHandler(body), env.server.reloader.TLSConfig(), nil)
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	b.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String() + "/api/v1"
}

// constantHandler answers every request with body, as the bench tool's
// baseline does.
func constantHandler(body []byte) http.Handler {
	length := []string{strconv.Itoa(len(body))}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = length
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

// BenchmarkHandler measures the API handler as the server runs it, every
// middleware included (identity, audit, metrics, routing, limits), without
// the network: what replicasd adds to net/http and TLS per request. The
// "constant" case is the bench tool's baseline handler, for comparison.
func BenchmarkHandler(b *testing.B) {
	env := benchServer(b, 1000)
	// A real TLS connection, handshake done, for the request's TLS state
	// and its connection context, as net/http gives them to the handler.
	clientSide, serverSide := net.Pipe()
	defer clientSide.Close()
	defer serverSide.Close()
	serverConn := tls.Server(serverSide, env.server.reloader.TLSConfig())
	clientCfg := env.tls.Clone()
	clientCfg.ServerName = "localhost"
	handshake := make(chan error, 1)
	go func() { handshake <- tls.Client(clientSide, clientCfg).Handshake() }()
	if err := serverConn.Handshake(); err != nil {
		b.Fatal(err)
	}
	if err := <-handshake; err != nil {
		b.Fatal(err)
	}
	state := serverConn.ConnectionState()
	connCtx := env.server.apiServer.ConnContext(context.Background(), serverConn)
	constant := constantHandler([]byte(`{"namespace":"ns-1","name":"d-00001","replicaCount":1,"resourceVersion":"1002","readyReplicas":1,"availableReplicas":1,"updatedReplicas":1}` + "\n"))
	for _, bc := range []struct {
		name    string
		handler http.Handler
		path    string
	}{
		{name: "constant", handler: constant, path: "/api/v1/namespaces/ns-1/deployments/d-00001/replicas"},
		{name: "get", handler: env.server.apiServer.Handler, path: "/api/v1/namespaces/ns-1/deployments/d-00001/replicas"},
		{name: "get-default-namespace", handler: env.server.apiServer.Handler, path: "/api/v1/deployments/d-00000/replicas?namespace=ns-0"},
		{name: "list-1k", handler: env.server.apiServer.Handler, path: "/api/v1/deployments"},
		{name: "list-100-one-namespace", handler: env.server.apiServer.Handler, path: "/api/v1/namespaces/ns-3/deployments"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequestWithContext(connCtx, http.MethodGet, bc.path, nil)
			r.TLS = &state
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			start := processCPU(b)
			for b.Loop() {
				clear(w.h)
				w.status = 0
				bc.handler.ServeHTTP(w, r)
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
			// CPU time rather than wall time: on a shared machine the
			// wall time per op moves with everyone else's load.
			b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// discardWriter is a ResponseWriter that keeps nothing but reuses its header
// map, as net/http's does per request.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}

// processCPU is the CPU time this process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
