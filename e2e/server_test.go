package e2e

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/replicasd/replicasd/src/apitest"
	"github.com/replicasd/replicasd/src/certs"
)

// server is one replicasd the specs talk to: a local process, or the
// in-cluster service.
type server struct {
	name   string
	base   string // https://HOST:PORT/api/v1
	ops    string // http://HOST:PORT, "" when not reachable
	client *http.Client
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	exited chan error
}

var (
	serversMu sync.Mutex
	servers   []*server
)

func freePort() int {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serverBinary is the replicasd built by `make e2e`.
func serverBinary() string {
	if p := os.Getenv("REPLICASD_BIN"); p != "" {
		return p
	}
	return filepath.Join(repo, "bin", "replicasd")
}

// startServer runs bin/replicasd under the ServiceAccount's kubeconfig.
func startServer(name string, extraArgs ...string) *server {
	GinkgoHelper()
	dir := filepath.Join(certsDir, name)
	Expect(os.MkdirAll(dir, 0o700)).To(Succeed())
	serverPair, err := ca.IssueServer(nil)
	Expect(err).NotTo(HaveOccurred())
	Expect(serverPair.WriteFiles(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))).To(Succeed())
	Expect(certs.WriteFile(filepath.Join(dir, "ca.crt"), ca.CertPEM, 0o644)).To(Succeed())

	port, opsPort := freePort(), freePort()
	args := append([]string{
		"--listen-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--ops-address", fmt.Sprintf("127.0.0.1:%d", opsPort),
		"--tls-cert-file", filepath.Join(dir, "server.crt"),
		"--tls-private-key-file", filepath.Join(dir, "server.key"),
		"--client-ca-file", filepath.Join(dir, "ca.crt"),
		"--kubeconfig", saKubeconfig,
		"--log-level", "debug",
	}, extraArgs...)
	cmd := exec.Command(serverBinary(), args...)
	logs := &bytes.Buffer{}
	cmd.Stdout = io.MultiWriter(GinkgoWriter, &lockedWriter{w: logs})
	cmd.Stderr = cmd.Stdout
	// No rate limit across the suite's deliberate bursts from one identity
	// (the limits have their own unit and app tests).
	cmd.Env = append(os.Environ(), "REPLICASD_WRITE_RATE_LIMIT=100000", "REPLICASD_WRITE_BURST=100000")
	Expect(cmd.Start()).To(Succeed())
	s := &server{
		name:   name,
		base:   fmt.Sprintf("https://127.0.0.1:%d/api/v1", port),
		ops:    fmt.Sprintf("http://127.0.0.1:%d", opsPort),
		client: clientWith("e2e-admin", []string{"sre"}),
		cmd:    cmd,
		logs:   logs,
		exited: make(chan error, 1),
	}
	go func() { s.exited <- cmd.Wait() }()
	serversMu.Lock()
	servers = append(servers, s)
	serversMu.Unlock()
	return s
}

// externalServer is the in-cluster replicasd (E2E_SERVER_URL).
func externalServer(url string) *server {
	return &server{
		name:   "in-cluster",
		base:   strings.TrimSuffix(url, "/") + "/api/v1",
		ops:    os.Getenv("E2E_OPS_URL"),
		client: clientWith("e2e-admin", []string{"sre"}),
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// clientWith returns an HTTP client presenting a fresh client certificate
// issued by the suite's CA.
func clientWith(cn string, orgs []string) *http.Client {
	GinkgoHelper()
	pair, err := ca.IssueClient(cn, orgs)
	Expect(err).NotTo(HaveOccurred())
	return tlsClient(&tls.Config{RootCAs: ca.CertPool(), Certificates: []tls.Certificate{pair.TLSCertificate()}})
}

func tlsClient(cfg *tls.Config) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: cfg, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64,
	}}
}

func (s *server) waitReady() {
	GinkgoHelper()
	Eventually(func() int { return s.get("/health").Status }).WithTimeout(60*time.Second).
		WithPolling(200*time.Millisecond).Should(Equal(http.StatusOK), func() string { return s.logText() })
	if s.ops != "" {
		Eventually(func() int {
			resp, err := http.Get(s.ops + "/readyz")
			if err != nil {
				return 0
			}
			resp.Body.Close()
			return resp.StatusCode
		}).WithTimeout(60 * time.Second).Should(Equal(http.StatusOK))
	}
}

func (s *server) logText() string {
	if s.logs == nil {
		return ""
	}
	return s.logs.String()
}

// terminate sends SIGTERM and expects a clean exit.
func (s *server) terminate() {
	GinkgoHelper()
	Expect(s.cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
	var err error
	Eventually(s.exited).WithTimeout(30 * time.Second).Should(Receive(&err))
	Expect(err).NotTo(HaveOccurred(), "replicasd exit after SIGTERM")
}

func stopAllServers() {
	serversMu.Lock()
	defer serversMu.Unlock()
	for _, s := range servers {
		if s.cmd != nil && s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(20 * time.Second):
				_ = s.cmd.Process.Kill()
			}
		}
	}
}

// response is one answer of the API.
type response = apitest.Response

func (s *server) do(client *http.Client, method, path, body string, header map[string]string) (response, error) {
	return apitest.Do(client, method, s.base+path, body, header, func(req *http.Request, resp *http.Response, b []byte) {
		checkAgainstSpec(req, resp.StatusCode, resp.Header, b) // see openapi_test.go
	})
}

func (s *server) get(path string) response {
	GinkgoHelper()
	resp, err := s.do(s.client, http.MethodGet, path, "", nil)
	if err != nil {
		return response{Body: err.Error()}
	}
	return resp
}

func (s *server) put(path string, replicas int, ifMatch string) response {
	GinkgoHelper()
	header := map[string]string{}
	if ifMatch != "" {
		header["If-Match"] = ifMatch
	}
	resp, err := s.do(s.client, http.MethodPut, path, fmt.Sprintf(`{"replicaCount": %d}`, replicas), header)
	Expect(err).NotTo(HaveOccurred())
	return resp
}

// kubectl runs the cluster's kubectl against KUBECONFIG.
func kubectl(args ...string) (string, error) {
	bin := os.Getenv("KUBECTL")
	if bin == "" {
		bin = "kubectl"
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func writeKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["e2e"] = &clientcmdapi.Cluster{
		Server: cfg.Host, CertificateAuthorityData: cfg.CAData,
		CertificateAuthority: cfg.CAFile, InsecureSkipTLSVerify: cfg.Insecure,
	}
	kc.AuthInfos["replicasd"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "replicasd"}
	kc.CurrentContext = "e2e"
	return clientcmd.WriteToFile(*kc, path)
}
