package integration

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

var (
	testEnv    *envtest.Environment
	adminCfg   *rest.Config
	adminKube  *kubernetes.Clientset
	apiCertDir string
)

func TestIntegration(t *testing.T) {
	RegisterFailHandler(Fail)
	// Gomega's 1 s default is too short on a loaded 2-core machine.
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	SetDefaultConsistentlyDuration(5 * time.Second)
	RunSpecs(t, "replicasd integration (envtest)")
}

var _ = BeforeSuite(func() {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		Fail("KUBEBUILDER_ASSETS is not set: run `make integration`, which builds etcd and kube-apiserver from Go modules")
	}
	// A fixed certificate directory makes kube-apiserver keep its serving
	// certificate when a spec stops and restarts it, so clients keep
	// trusting it (envtest otherwise makes a new CA on every start).
	apiCertDir = GinkgoT().TempDir()
	testEnv = &envtest.Environment{ControlPlaneStopTimeout: 90 * time.Second}
	testEnv.ControlPlane.APIServer = &envtest.APIServer{CertDir: apiCertDir}
	// Without this kube-apiserver's graceful stop waits a minute for open
	// watches when a spec stops it.
	testEnv.ControlPlane.APIServer.Configure().Set("request-timeout", "10s")
	var err error
	adminCfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	adminKube, err = kubernetes.NewForConfig(adminCfg)
	Expect(err).NotTo(HaveOccurred())
	Expect(filepath.Join(apiCertDir, "apiserver.crt")).To(BeAnExistingFile())
})

var _ = AfterSuite(func() {
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})
