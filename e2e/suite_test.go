// Package e2e runs replicasd against a real cluster (KUBECONFIG): the local
// kwok cluster here, kind in GitHub Actions. The server runs as local
// processes under the least-privilege ServiceAccount of deploy/rbac, or, in
// external mode (E2E_SERVER_URL), is a server the Helm chart installed: in
// the kind cluster (the GitHub workflow), or the chart's Deployment run as
// local processes by scripts/chartrun (`make e2e-external` here).
//
// External mode reads E2E_SERVER_URL and E2E_OPS_URL (the server most specs
// use), E2E_SECONDARY_URL and E2E_SECONDARY_OPS_URL (another replica of the
// same install, for the HA specs; without them the suite starts its own
// second replica), and E2E_CERTS_DIR (ca.crt and ca.key of the server's
// client CA; relative to the repository root unless absolute). It leaves the
// cluster's RBAC as the chart installed it.
package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/replicasd/replicasd/src/certs"
)

var (
	adminCfg  *rest.Config
	adminKube *kubernetes.Clientset
	// saKubeconfig is a kubeconfig for the replicasd ServiceAccount.
	saKubeconfig string
	saKube       *kubernetes.Clientset
	// ca signs the servers' and clients' certificates.
	ca       *certs.Pair
	certsDir string
	// primary is the server most specs talk to.
	primary *server
	repo    string
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	// Gomega's 1 s default is too short on a loaded 2-core machine.
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	SetDefaultConsistentlyDuration(5 * time.Second)
	RunSpecs(t, "replicasd e2e")
}

var _ = BeforeSuite(func() {
	var err error
	repo, err = filepath.Abs("..")
	Expect(err).NotTo(HaveOccurred())
	Expect(os.Getenv("KUBECONFIG")).NotTo(BeEmpty(), "KUBECONFIG must point at a cluster: run `make e2e`")
	adminCfg, err = clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	Expect(err).NotTo(HaveOccurred())
	adminCfg.QPS, adminCfg.Burst = 100, 200
	adminKube, err = kubernetes.NewForConfig(adminCfg)
	Expect(err).NotTo(HaveOccurred())

	certsDir = GinkgoT().TempDir()
	if dir := externalCertsDir(); dir != "" {
		// The CA the installed server trusts (make deploy made it).
		ca, err = certs.Load(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"))
		Expect(err).NotTo(HaveOccurred(), "E2E_CERTS_DIR=%s", dir)
	} else {
		Expect(external()).To(BeFalse(), "E2E_SERVER_URL needs E2E_CERTS_DIR: the directory with the ca.crt and ca.key of the server's client CA")
		ca, err = certs.NewCA("replicasd-e2e-ca")
		Expect(err).NotTo(HaveOccurred())
	}

	// An installed server runs under the chart's RBAC, which the RBAC
	// specs must test as it is: deploy/rbac holds objects of the same
	// names, so applying it would replace what they check.
	if !external() {
		applyRBAC()
	}
	saKubeconfig, saKube = serviceAccountKubeconfig()

	if external() {
		primary = externalServer(os.Getenv("E2E_SERVER_URL"))
	} else {
		primary = startServer("primary")
	}
	primary.waitReady()
})

// external reports whether the suite runs against an installed server
// (E2E_SERVER_URL) rather than processes it starts.
func external() bool {
	return os.Getenv("E2E_SERVER_URL") != ""
}

// externalCertsDir is E2E_CERTS_DIR, made absolute: `go test` runs in e2e/,
// while the path is given from the repository root, where make runs.
func externalCertsDir() string {
	dir := os.Getenv("E2E_CERTS_DIR")
	if dir == "" || filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(repo, dir)
}

// secondaryServer is a second replica for the HA specs: the installed
// server's other replica (E2E_SECONDARY_URL) when there is one, else a
// process the suite starts, under the same ServiceAccount and CA.
func secondaryServer() *server {
	GinkgoHelper()
	url := os.Getenv("E2E_SECONDARY_URL")
	if url == "" {
		return startServer("secondary")
	}
	s := externalServer(url)
	s.name, s.ops = "secondary", os.Getenv("E2E_SECONDARY_OPS_URL")
	return s
}

// applyRBAC installs deploy/rbac (namespace, ServiceAccount, ClusterRole
// and binding) with kubectl-like create-or-update semantics.
func applyRBAC() {
	GinkgoHelper()
	out, err := kubectl("apply", "-f", filepath.Join(repo, "deploy", "rbac"))
	Expect(err).NotTo(HaveOccurred(), out)
}

// serviceAccountKubeconfig writes a kubeconfig holding a short-lived token
// of the replicasd ServiceAccount, so the server runs with exactly the
// permissions deploy/rbac grants.
func serviceAccountKubeconfig() (string, *kubernetes.Clientset) {
	GinkgoHelper()
	ctx := context.Background()
	tr, err := adminKube.CoreV1().ServiceAccounts("replicasd-system").CreateToken(ctx, "replicasd",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	cfg := rest.AnonymousClientConfig(adminCfg)
	cfg.BearerToken = tr.Status.Token
	path := filepath.Join(certsDir, "sa.kubeconfig")
	Expect(writeKubeconfig(path, cfg)).To(Succeed())
	client, err := kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	return path, client
}

var _ = AfterSuite(func() {
	stopAllServers()
})

// newNamespace creates a namespace for one spec and deletes it afterwards.
func newNamespace(prefix string) string {
	GinkgoHelper()
	ns, err := adminKube.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-" + prefix + "-"}}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		_ = adminKube.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}
