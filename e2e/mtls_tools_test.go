package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/replicasd/replicasd/src/certs"
)

// The refusals reviewers check by hand, with their own tools: the real curl
// and openssl binaries (not Go's crypto/tls) against a local server that
// also has a CRL. Each case checks the exact TLS alert openssl s_client
// prints, curl's exit code, and the reason the server counted in
// replicasd_tls_handshake_errors_total.
var _ = Describe("mTLS refusals seen by curl and openssl", Ordered, func() {
	var (
		s   *server
		dir string
		// clients holds the certificate and key files of each case by name.
		clients = map[string][2]string{}
	)

	BeforeAll(func() {
		for _, tool := range []string{"curl", "openssl"} {
			_, err := exec.LookPath(tool)
			Expect(err).NotTo(HaveOccurred(), "%s is needed by these specs: apt-get install -y curl openssl (.ci/run does)", tool)
		}
		dir = GinkgoT().TempDir()
		must := func(p *certs.Pair, err error) *certs.Pair {
			GinkgoHelper()
			Expect(err).NotTo(HaveOccurred())
			return p
		}
		write := func(name string, p *certs.Pair) *certs.Pair {
			GinkgoHelper()
			crt, key := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
			Expect(p.WriteFiles(crt, key)).To(Succeed())
			clients[name] = [2]string{crt, key}
			return p
		}
		other, err := certs.NewCA("another-ca")
		Expect(err).NotTo(HaveOccurred())
		past := certs.WithValidity(time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
		future := certs.WithValidity(time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour))
		write("good", must(ca.IssueClient("reviewer", []string{"sre"})))
		write("other-ca", must(other.IssueClient("mallory", nil)))
		write("expired", must(ca.IssueClient("old", nil, past)))
		write("not-yet-valid", must(ca.IssueClient("early", nil, future)))
		write("server-auth-only", must(ca.IssueClient("server-only", nil, certs.WithExtKeyUsage(x509.ExtKeyUsageServerAuth))))
		write("self-signed", must(certs.NewSelfSignedClient("selfie")))
		revoked := write("revoked", must(ca.IssueClient("revoked", []string{"sre"})))
		Expect(certs.WriteFile(filepath.Join(dir, "ca.crt"), ca.CertPEM, 0o644)).To(Succeed())

		crl := filepath.Join(dir, "crl.pem")
		Expect(certs.WriteFile(crl, revocationList(revoked), 0o644)).To(Succeed())
		s = startServer("mtls-tools", "--client-crl-file", crl)
		s.waitReady()
		DeferCleanup(func() {
			if s.cmd.ProcessState == nil {
				s.terminate()
			}
		})
	})

	It("serves a good certificate to both tools (the control case)", func() {
		out, code := runOpenSSL(s, dir, clients["good"], nil, true)
		Expect(code).To(Equal(0), out)
		Expect(out).To(MatchRegexp(`HTTP/1\.[01] 200`))
		out, code = runCurl(s, dir, clients["good"], nil)
		Expect(code).To(Equal(0), out)
		Expect(out).To(ContainSubstring(`"status":"healthy"`))
	})

	DescribeTable("each refusal",
		func(client string, opensslArgs, curlArgs []string, alert string, curlExit int, reason string) {
			files, ok := clients[client]
			if client != "" {
				Expect(ok).To(BeTrue(), client)
			}
			before := handshakeErrors(s)

			out, code := runOpenSSL(s, dir, files, opensslArgs, false)
			Expect(out).To(ContainSubstring(alert), "openssl s_client's answer")
			Expect(out).NotTo(MatchRegexp(`HTTP/1\.[01] \d{3}`), "no HTTP answer may follow a refused handshake")
			Expect(code).NotTo(Equal(0), out)
			Eventually(func() map[string]float64 { return handshakeErrors(s) }).
				Should(Equal(plus(before, reason, 1)), "replicasd_tls_handshake_errors_total after openssl")

			out, code = runCurl(s, dir, files, curlArgs)
			if curlExit == curlAfterHandshake {
				// curl has finished its side of a TLS 1.3 handshake and
				// sends its request before the server's verdict arrives:
				// it reads the alert (56) or finds the connection reset by
				// the server's close (55), whichever comes first.
				Expect(code).To(BeElementOf(56, 55), "curl's exit code; its answer:\n%s", out)
				if code == 56 {
					Expect(out).To(ContainSubstring(alert))
				}
			} else {
				Expect(code).To(Equal(curlExit), "curl's exit code; its answer:\n%s", out)
				Expect(out).To(ContainSubstring(alert))
			}
			Eventually(func() map[string]float64 { return handshakeErrors(s) }).
				Should(Equal(plus(before, reason, 2)), "replicasd_tls_handshake_errors_total after curl")
		},
		Entry("no certificate", "", nil, nil, "tlsv13 alert certificate required", curlAfterHandshake, "no_certificate"),
		Entry("a certificate from another CA", "other-ca", nil, nil, "tlsv1 alert unknown ca", curlAfterHandshake, "unknown_authority"),
		Entry("an expired certificate", "expired", nil, nil, "sslv3 alert certificate expired", curlAfterHandshake, "expired"),
		Entry("a certificate not yet valid", "not-yet-valid", nil, nil, "sslv3 alert certificate expired", curlAfterHandshake, "expired"),
		Entry("a certificate for serverAuth only", "server-auth-only", nil, nil, "sslv3 alert bad certificate", curlAfterHandshake, "bad_usage"),
		Entry("a self-signed certificate", "self-signed", nil, nil, "tlsv1 alert unknown ca", curlAfterHandshake, "unknown_authority"),
		Entry("a certificate the CRL revokes", "revoked", nil, nil, "sslv3 alert bad certificate", curlAfterHandshake, "other"),
		Entry("a client limited to TLS 1.2", "good", []string{"-tls1_2"}, []string{"--tls-max", "1.2"},
			"tlsv1 alert protocol version", 35, "protocol"),
	)
})

// curlAfterHandshake stands for curl's exit code when the server refuses
// the certificate after curl's side of the handshake: 56 or 55.
const curlAfterHandshake = -1

// revocationList is a PEM CRL of the suite's CA revoking p.
func revocationList(p *certs.Pair) []byte {
	GinkgoHelper()
	now := time.Now()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: p.Cert.SerialNumber, RevocationTime: now.Add(-time.Minute)}},
	}, ca.Cert, ca.Key)
	Expect(err).NotTo(HaveOccurred())
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// hostPort is the server's API address.
func hostPort(s *server) string {
	GinkgoHelper()
	u, err := url.Parse(s.base)
	Expect(err).NotTo(HaveOccurred())
	return u.Host
}

// runTool runs one reviewer's command with a deadline and returns what it
// printed (stdout and stderr) and its exit code. stdin, when not nil, is
// its standard input.
func runTool(stdin *os.File, name string, args ...string) (string, int) {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	GinkgoWriter.Printf("$ %s %s\n%s\n", name, strings.Join(args, " "), out.String())
	Expect(ctx.Err()).NotTo(HaveOccurred(), "%s did not finish in time:\n%s", name, out.String())
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), exit.ExitCode()
	}
	Expect(err).NotTo(HaveOccurred())
	return out.String(), 0
}

// runOpenSSL connects with openssl s_client, presenting files (certificate,
// key) when given. With a certificate the server should take it sends one
// HTTP/1.0 request and reads the answer. Otherwise it sends nothing and
// keeps its input open: in TLS 1.3 the server's verdict on the client
// certificate arrives after the client's side of the handshake is done,
// and a request written meanwhile would make the server's close a reset
// that loses the alert.
func runOpenSSL(s *server, dir string, files [2]string, extra []string, request bool) (string, int) {
	GinkgoHelper()
	args := []string{"s_client", "-connect", hostPort(s), "-servername", "localhost",
		"-CAfile", filepath.Join(dir, "ca.crt"), "-verify_return_error"}
	if files[0] != "" {
		args = append(args, "-cert", files[0], "-key", files[1])
	}
	args = append(args, extra...)
	in, feed, err := os.Pipe()
	Expect(err).NotTo(HaveOccurred())
	defer in.Close()
	defer feed.Close()
	if request {
		args = append(args, "-ign_eof") // read the answer after the request
		_, err = feed.WriteString("GET /api/v1/health HTTP/1.0\r\nHost: localhost\r\n\r\n")
		Expect(err).NotTo(HaveOccurred())
		Expect(feed.Close()).To(Succeed())
	}
	return runTool(in, "openssl", args...)
}

// runCurl GETs /api/v1/health with curl, presenting files when given.
func runCurl(s *server, dir string, files [2]string, extra []string) (string, int) {
	GinkgoHelper()
	args := []string{"-sS", "--max-time", "30", "--cacert", filepath.Join(dir, "ca.crt")}
	if files[0] != "" {
		args = append(args, "--cert", files[0], "--key", files[1])
	}
	args = append(args, extra...)
	args = append(args, s.base+"/health")
	return runTool(nil, "curl", args...)
}

var handshakeErrorLine = regexp.MustCompile(`(?m)^replicasd_tls_handshake_errors_total\{reason="([a-z_]+)"\} (\S+)$`)

// handshakeErrors scrapes the server's /metrics for
// replicasd_tls_handshake_errors_total, by reason.
func handshakeErrors(s *server) map[string]float64 {
	GinkgoHelper()
	Expect(s.ops).NotTo(BeEmpty())
	resp, err := http.Get(s.ops + "/metrics")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
	counts := map[string]float64{}
	for _, m := range handshakeErrorLine.FindAllStringSubmatch(string(body), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		Expect(err).NotTo(HaveOccurred(), m[0])
		counts[m[1]] = v
	}
	return counts
}

// plus returns a copy of counts with n added to reason.
func plus(counts map[string]float64, reason string, n float64) map[string]float64 {
	out := make(map[string]float64, len(counts))
	for k, v := range counts {
		out[k] = v
	}
	out[reason] += n
	return out
}
