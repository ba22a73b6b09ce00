package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/replicasd/replicasd/src/certs"
)

// cliResult is one run of the replicactl binary.
type cliResult struct {
	stdout, stderr string
	code           int
}

// replicactl drives the built CLI against the primary server, as a person
// would: flags for the connection, a clean environment (no REPLICACTL_*
// variables, HOME without a config file).
var _ = Describe("replicactl", Ordered, func() {
	var (
		bin, dir, ns  string
		server        string // https://HOST:PORT, without /api/v1
		goodCert, key string
	)

	BeforeAll(func() {
		dir = GinkgoT().TempDir()
		bin = filepath.Join(dir, "replicactl")
		build := exec.Command("go", "build", "-o", bin, "./src/cmd/replicactl")
		build.Dir = repo
		out, err := build.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "go build replicactl: %s", out)

		pair, err := ca.IssueClient("e2e-cli", []string{"sre"})
		Expect(err).NotTo(HaveOccurred())
		goodCert, key = filepath.Join(dir, "cli.crt"), filepath.Join(dir, "cli.key")
		Expect(pair.WriteFiles(goodCert, key)).To(Succeed())
		Expect(certs.WriteFile(filepath.Join(dir, "ca.crt"), ca.CertPEM, 0o644)).To(Succeed())
		server = strings.TrimSuffix(primary.base, "/api/v1")

		ns = newNamespace("cli")
		createDeployment(ns, "web", 2)
		createDeployment(ns, "api", 1)
		waitServed(primary, "/namespaces/"+ns+"/deployments/web/replicas")
		waitServed(primary, "/namespaces/"+ns+"/deployments/api/replicas")
	})

	// runAs runs replicactl with the given certificate and key.
	runAs := func(cert, key string, args ...string) cliResult {
		GinkgoHelper()
		full := append([]string{"--server", server, "--ca", filepath.Join(dir, "ca.crt"), "--cert", cert, "--key", key}, args...)
		cmd := exec.Command(bin, full...)
		cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
			code = exitErr.ExitCode()
		} else {
			Expect(err).NotTo(HaveOccurred())
		}
		GinkgoWriter.Printf("replicactl %s\n  exit %d\n  stdout: %s\n  stderr: %s\n", strings.Join(args, " "), code, stdout.String(), stderr.String())
		return cliResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
	}
	run := func(args ...string) cliResult {
		GinkgoHelper()
		return runAs(goodCert, key, args...)
	}
	// resourceVersion reads the deployment's resourceVersion with get -o json.
	resourceVersion := func(name string) string {
		GinkgoHelper()
		r := run("get", name, "-n", ns, "-o", "json")
		Expect(r.code).To(Equal(0), r.stderr)
		var d struct {
			ResourceVersion string `json:"resourceVersion"`
		}
		Expect(json.Unmarshal([]byte(r.stdout), &d)).To(Succeed(), r.stdout)
		Expect(d.ResourceVersion).NotTo(BeEmpty())
		return d.ResourceVersion
	}

	It("lists the deployments of a namespace as a table", func() {
		r := run("list", "-n", ns)
		Expect(r.code).To(Equal(0))
		Expect(r.stderr).To(BeEmpty())
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		Expect(lines).To(HaveLen(3), r.stdout)
		Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "REPLICAS", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}))
		Expect(strings.Fields(lines[1])[:2]).To(Equal([]string{"api", "1"}))
		Expect(strings.Fields(lines[2])[:2]).To(Equal([]string{"web", "2"}))
	})

	It("lists with a label selector, -o name", func() {
		r := run("list", "-n", ns, "-l", "app=web", "-o", "name")
		Expect(r).To(Equal(cliResult{stdout: "deployment.apps/web\n"}))
	})

	It("lists every namespace with a NAMESPACE column", func() {
		r := run("list", "-A", "-l", "app=api")
		Expect(r.code).To(Equal(0))
		Expect(r.stderr).To(BeEmpty())
		Expect(r.stdout).To(HavePrefix("NAMESPACE "))
		Expect(r.stdout).To(MatchRegexp(`(?m)^%s\s+api\s+1\s`, ns))
	})

	It("says so on stderr when nothing matches, with an empty stdout", func() {
		r := run("list", "-n", ns, "-l", "app=none")
		Expect(r).To(Equal(cliResult{stderr: fmt.Sprintf("No deployments found in namespace %s.\n", ns)}))
	})

	It("gets one deployment, as a table and as JSON", func() {
		r := run("get", "web", "-n", ns)
		Expect(r.code).To(Equal(0))
		Expect(r.stderr).To(BeEmpty())
		Expect(r.stdout).To(MatchRegexp(`^NAMESPACE\s+NAME\s+REPLICAS\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n%s\s+web\s+2\s`, ns))

		r = run("get", "web", "-n", ns, "-o", "json")
		Expect(r.code).To(Equal(0))
		Expect(r.stderr).To(BeEmpty())
		var d map[string]any
		Expect(json.Unmarshal([]byte(r.stdout), &d)).To(Succeed(), r.stdout)
		Expect(d).To(HaveKeyWithValue("namespace", ns))
		Expect(d).To(HaveKeyWithValue("name", "web"))
		Expect(d).To(HaveKeyWithValue("replicaCount", 2.0))
		Expect(d).To(HaveKey("resourceVersion"))
	})

	It("answers exit 1 and an explanation for a deployment that does not exist", func() {
		r := run("get", "nope", "-n", ns)
		Expect(r.code).To(Equal(1))
		Expect(r.stdout).To(BeEmpty())
		Expect(r.stderr).To(HavePrefix("error: not found: "))
		Expect(r.stderr).To(ContainSubstring(`"nope"`))
	})

	It("scales, and the change is visible at once", func() {
		r := run("scale", "web", "-n", ns, "--replicas", "3")
		Expect(r).To(Equal(cliResult{stdout: fmt.Sprintf("deployment.apps/web scaled to 3 replicas in namespace %s\n", ns)}))
		Expect(apiReplicas(ns, "web")).To(Equal(3))
		Expect(primary.get("/namespaces/" + ns + "/deployments/web/replicas").ReplicaCount()).To(Equal(3))

		r = run("scale", "web", "-n", ns, "--replicas", "3")
		Expect(r).To(Equal(cliResult{stdout: fmt.Sprintf("deployment.apps/web already has 3 replicas in namespace %s; nothing changed\n", ns)}))
	})

	It("refuses a stale --if-match with exit 1 and the conflict message, writing nothing", func() {
		stale := resourceVersion("web")
		// Someone else's write makes it stale (the controller's status
		// updates may too, which is why this write has no --if-match).
		Expect(run("scale", "web", "-n", ns, "--replicas", "4").code).To(Equal(0))
		Expect(apiReplicas(ns, "web")).To(Equal(4))

		r := run("scale", "web", "-n", ns, "--replicas", "5", "--if-match", stale)
		Expect(r.code).To(Equal(1))
		Expect(r.stdout).To(BeEmpty())
		Expect(r.stderr).To(HavePrefix("error: conflict: the deployment changed since you read it, so nothing was written; run again"))
		Expect(apiReplicas(ns, "web")).To(Equal(4))
	})

	It("scales with --current-replicas only when the count matches", func() {
		r := run("scale", "web", "-n", ns, "--replicas", "6", "--current-replicas", "1")
		Expect(r.code).To(Equal(1))
		Expect(r.stdout).To(BeEmpty())
		Expect(r.stderr).To(Equal(fmt.Sprintf("error: refusing to scale: deployment.apps/web in namespace %s has 4 replicas, "+
			"not 1 as --current-replicas requires; nothing was changed\n", ns)))
		Expect(apiReplicas(ns, "web")).To(Equal(4))

		r = run("scale", "web", "-n", ns, "--replicas", "6", "--current-replicas", "4")
		Expect(r).To(Equal(cliResult{stdout: fmt.Sprintf("deployment.apps/web scaled to 6 replicas in namespace %s\n", ns)}))
		Expect(apiReplicas(ns, "web")).To(Equal(6))
	})

	It("explains a certificate from another CA, with exit 3", func() {
		other, err := certs.NewCA("other-ca")
		Expect(err).NotTo(HaveOccurred())
		pair, err := other.IssueClient("mallory", nil)
		Expect(err).NotTo(HaveOccurred())
		cert, badKey := filepath.Join(dir, "mallory.crt"), filepath.Join(dir, "mallory.key")
		Expect(pair.WriteFiles(cert, badKey)).To(Succeed())

		r := runAs(cert, badKey, "list", "-n", ns)
		Expect(r.code).To(Equal(3))
		Expect(r.stdout).To(BeEmpty())
		Expect(r.stderr).To(Equal(`error: the server refused your certificate: it is not signed by the server's client CA ` +
			`(it is issued by "other-ca"); check --cert and the server's --client-ca-file` + "\n"))
	})

	It("explains an expired certificate, with its date and exit 3", func() {
		expired := time.Now().Add(-24 * time.Hour).UTC().Truncate(time.Second)
		pair, err := ca.IssueClient("old", nil, certs.WithValidity(expired.Add(-24*time.Hour), expired))
		Expect(err).NotTo(HaveOccurred())
		cert, oldKey := filepath.Join(dir, "old.crt"), filepath.Join(dir, "old.key")
		Expect(pair.WriteFiles(cert, oldKey)).To(Succeed())

		r := runAs(cert, oldKey, "get", "web", "-n", ns)
		Expect(r.code).To(Equal(3))
		Expect(r.stdout).To(BeEmpty())
		Expect(r.stderr).To(HavePrefix("error: your certificate " + cert + " expired on " + expired.Format("2006-01-02")))
	})

	It("takes the connection settings from REPLICACTL_* variables", func() {
		cmd := exec.Command(bin, "get", "api", "-n", ns, "-o", "name")
		cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"),
			"REPLICACTL_SERVER=" + server, "REPLICACTL_CA=" + filepath.Join(dir, "ca.crt"),
			"REPLICACTL_CERT=" + goodCert, "REPLICACTL_KEY=" + key}
		out, err := cmd.Output()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(out)).To(Equal("deployment.apps/api\n"))
	})

	It("exits 2 on a usage error, without calling the server", func() {
		r := run("scale", "web", "-n", ns, "--replicas=-1")
		Expect(r.code).To(Equal(2))
		Expect(r.stdout).To(BeEmpty())
		Expect(r.stderr).To(ContainSubstring("--replicas must be 0 or more, got -1"))
		Expect(r.stderr).To(HaveSuffix("See 'replicactl scale --help'.\n"))
		Expect(apiReplicas(ns, "web")).To(Equal(6))
	})
})
