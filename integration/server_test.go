package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"

	"github.com/replicasd/replicasd/src/apitest"
	"github.com/replicasd/replicasd/src/app"
	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/testkit"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// replicasd is one in-process server under test.
type replicasd struct {
	server *app.Server
	client *http.Client
	base   string // https://127.0.0.1:PORT/api/v1
	ops    string // http://127.0.0.1:PORT
	logs   *testkit.Buffer
	cancel context.CancelFunc
	done   chan error

	stopOnce sync.Once
}

// startReplicasd runs a server that talks to Kubernetes as restCfg. It
// stops when the spec ends.
func startReplicasd(restCfg *rest.Config, mutate func(*app.Config)) *replicasd {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	ca, err := certs.NewCA("integration-ca")
	Expect(err).NotTo(HaveOccurred())
	serverPair, err := ca.IssueServer(nil)
	Expect(err).NotTo(HaveOccurred())
	clientPair, err := ca.IssueClient("integration", []string{"sre"})
	Expect(err).NotTo(HaveOccurred())

	logs := &testkit.Buffer{}
	cfg := &app.Config{
		ListenAddress: "127.0.0.1:0",
		OpsAddress:    "127.0.0.1:0",
		TLS: tlsconfig.Config{
			CertFile:     filepath.Join(dir, "tls.crt"),
			KeyFile:      filepath.Join(dir, "tls.key"),
			ClientCAFile: filepath.Join(dir, "ca.crt"),
		},
		RESTConfig:                rest.CopyConfig(restCfg),
		DefaultNamespace:          "default",
		MaxReplicas:               1000,
		CacheSyncTimeout:          30 * time.Second,
		ReadYourWritesTimeout:     5 * time.Second,
		MinResourceVersionTimeout: 5 * time.Second,
		ShutdownTimeout:           15 * time.Second,
		Logger:                    slog.New(slog.NewJSONHandler(io.MultiWriter(logs, GinkgoWriter), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	Expect(serverPair.WriteFiles(cfg.TLS.CertFile, cfg.TLS.KeyFile)).To(Succeed())
	Expect(certs.WriteFile(cfg.TLS.ClientCAFile, ca.CertPEM, 0o644)).To(Succeed())
	if mutate != nil {
		mutate(cfg)
	}
	server, err := app.New(cfg)
	Expect(err).NotTo(HaveOccurred())

	ctx, cancel := context.WithCancel(context.Background())
	r := &replicasd{
		server: server,
		base:   "https://" + server.APIAddr().String() + "/api/v1",
		ops:    "http://" + server.OpsAddr().String(),
		logs:   logs,
		cancel: cancel,
		done:   make(chan error, 1),
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs:      ca.CertPool(),
			Certificates: []tls.Certificate{clientPair.TLSCertificate()},
		}}},
	}
	go func() { r.done <- server.Run(ctx) }()
	DeferCleanup(r.stop)
	return r
}

// stop ends the server like SIGTERM does and expects a clean exit.
func (r *replicasd) stop() {
	GinkgoHelper()
	r.stopOnce.Do(func() {
		r.cancel()
		var err error
		Eventually(r.done).WithTimeout(30 * time.Second).Should(Receive(&err))
		Expect(err).NotTo(HaveOccurred())
		r.client.CloseIdleConnections()
	})
}

func (r *replicasd) waitReady() {
	GinkgoHelper()
	Eventually(r.readyz).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(Equal(http.StatusOK))
}

func (r *replicasd) readyz() int {
	resp, err := http.Get(r.ops + "/readyz")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// response is one answer of the API.
type response = apitest.Response

func (r *replicasd) do(method, path, body string, header map[string]string) (response, error) {
	return apitest.Do(r.client, method, r.base+path, body, header, nil)
}

func (r *replicasd) get(path string) response {
	GinkgoHelper()
	resp, err := r.do(http.MethodGet, path, "", nil)
	Expect(err).NotTo(HaveOccurred())
	return resp
}

func (r *replicasd) put(path string, replicas int, ifMatch string) response {
	GinkgoHelper()
	header := map[string]string{}
	if ifMatch != "" {
		header["If-Match"] = ifMatch
	}
	resp, err := r.do(http.MethodPut, path, `{"replicaCount": `+itoa(replicas)+`}`, header)
	Expect(err).NotTo(HaveOccurred())
	return resp
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
