package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/replicasd/replicasd/src/certs"
)

func createDeployment(namespace, name string, replicas int32) {
	GinkgoHelper()
	labels := map[string]string{"app": name}
	_, err := adminKube.AppsV1().Deployments(namespace).Create(context.Background(), &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
}

func apiReplicas(namespace, name string) int {
	GinkgoHelper()
	d, err := adminKube.AppsV1().Deployments(namespace).Get(context.Background(), name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	return int(*d.Spec.Replicas)
}

// waitServed waits until the server's cache has the deployment.
func waitServed(s *server, path string) {
	GinkgoHelper()
	Eventually(func() int { return s.get(path).Status }).WithTimeout(20 * time.Second).Should(Equal(http.StatusOK))
}

var _ = Describe("mTLS", func() {
	var path string
	BeforeEach(func() {
		ns := newNamespace("tls")
		createDeployment(ns, "web", 1)
		path = "/namespaces/" + ns + "/deployments/web/replicas"
		waitServed(primary, path)
	})

	issue := func(f func() (*certs.Pair, error)) tls.Certificate {
		GinkgoHelper()
		p, err := f()
		Expect(err).NotTo(HaveOccurred())
		return p.TLSCertificate()
	}
	past := func() certs.Option {
		return certs.WithValidity(time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	}
	future := func() certs.Option {
		return certs.WithValidity(time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour))
	}
	refused := func(cfg *tls.Config) {
		GinkgoHelper()
		cfg.RootCAs = ca.CertPool()
		resp, err := tlsClient(cfg).Get(primary.base + path)
		if err == nil {
			resp.Body.Close()
		}
		Expect(err).To(HaveOccurred(), "the handshake must be refused, got HTTP %v", resp)
		Expect(err.Error()).To(ContainSubstring("tls"))
	}

	It("serves a client with a good certificate", func() {
		Expect(primary.get(path).Status).To(Equal(http.StatusOK))
	})
	It("refuses a client without a certificate", func() {
		refused(&tls.Config{})
	})
	It("refuses a certificate from another CA", func() {
		other, err := certs.NewCA("other-ca")
		Expect(err).NotTo(HaveOccurred())
		refused(&tls.Config{Certificates: []tls.Certificate{issue(func() (*certs.Pair, error) { return other.IssueClient("mallory", nil) })}})
	})
	It("refuses an expired certificate", func() {
		refused(&tls.Config{Certificates: []tls.Certificate{issue(func() (*certs.Pair, error) { return ca.IssueClient("old", nil, past()) })}})
	})
	It("refuses a certificate that is not yet valid", func() {
		refused(&tls.Config{Certificates: []tls.Certificate{issue(func() (*certs.Pair, error) { return ca.IssueClient("early", nil, future()) })}})
	})
	It("refuses a certificate with the serverAuth usage only", func() {
		refused(&tls.Config{Certificates: []tls.Certificate{issue(func() (*certs.Pair, error) {
			return ca.IssueClient("server-only", nil, certs.WithExtKeyUsage(x509.ExtKeyUsageServerAuth))
		})}})
	})
	It("refuses a self-signed certificate", func() {
		refused(&tls.Config{Certificates: []tls.Certificate{issue(func() (*certs.Pair, error) { return certs.NewSelfSignedClient("selfie") })}})
	})
	It("refuses a client limited to TLS 1.2", func() {
		good := issue(func() (*certs.Pair, error) { return ca.IssueClient("tls12", nil) })
		refused(&tls.Config{Certificates: []tls.Certificate{good}, MaxVersion: tls.VersionTLS12})
	})
})

var _ = Describe("unknown deployments and namespaces", func() {
	It("answer 404 with the error envelope", func() {
		ns := newNamespace("missing")
		for _, p := range []string{
			"/namespaces/" + ns + "/deployments/nope/replicas",
			"/namespaces/no-such-namespace-e2e/deployments/web/replicas",
			"/deployments/nope/replicas?namespace=" + ns,
			"/no/such/path",
		} {
			resp := primary.get(p)
			Expect(resp.Status).To(Equal(http.StatusNotFound), p)
			Expect(resp.ErrorMessage()).NotTo(BeEmpty())
		}
		resp := primary.put("/namespaces/"+ns+"/deployments/nope/replicas", 2, "")
		Expect(resp.Status).To(Equal(http.StatusNotFound))
		Expect(resp.ErrorMessage()).To(ContainSubstring("nope"))
	})
})

var _ = Describe("concurrent scaling", func() {
	var (
		ns, path string
	)
	BeforeEach(func() {
		ns = newNamespace("load")
		createDeployment(ns, "web", 1)
		path = "/namespaces/" + ns + "/deployments/web/replicas"
		waitServed(primary, path)
	})

	It("lets 50 clients scale at once; the final count is one of theirs, the same in GET and in the API; reads never go back", func() {
		const clients = 50
		statuses := make([]int, clients)
		// One client reads while the others write: each of its reads shows
		// a resourceVersion at least as new as the one before.
		stop := make(chan struct{})
		var reads []uint64
		var reader sync.WaitGroup
		reader.Go(func() {
			defer GinkgoRecover()
			for {
				select {
				case <-stop:
					return
				default:
				}
				get := primary.get(path)
				Expect(get.Status).To(Equal(http.StatusOK), get.Body)
				reads = append(reads, get.ResourceVersion())
			}
		})
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				defer GinkgoRecover()
				want := i + 2
				put := primary.put(path, want, "")
				statuses[i] = put.Status
				if put.Status != http.StatusOK {
					return
				}
				// Read-your-writes: a GET sent after the answer reflects a
				// version at least as new as the write.
				get := primary.get(path)
				Expect(get.Status).To(Equal(http.StatusOK))
				Expect(get.ResourceVersion()).To(BeNumerically(">=", put.ResourceVersion()))
				if get.ResourceVersion() == put.ResourceVersion() {
					Expect(get.ReplicaCount()).To(Equal(want))
				}
			})
		}
		wg.Wait()
		close(stop)
		reader.Wait()
		Expect(len(reads)).To(BeNumerically(">", 1))
		Expect(slices.IsSorted(reads)).To(BeTrue(), "successive reads went back: %v", reads)
		Expect(statuses).To(HaveEach(http.StatusOK))
		final := apiReplicas(ns, "web")
		Expect(final).To(BeNumerically(">=", 2))
		Expect(final).To(BeNumerically("<=", clients+1))
		Expect(primary.get(path).ReplicaCount()).To(Equal(final))
	})

	It("with If-Match from one ETag, exactly one writer wins and the rest get 412", func() {
		// The deployment controller writes status after creation, and every
		// write moves the resourceVersion: take the ETag once it settled.
		waitSettled(ns, "web")
		Eventually(func() string { return primary.get(path).Header.Get("ETag") }).
			Should(Equal(fmt.Sprintf("%q", currentRV(ns, "web"))))
		etag := primary.get(path).Header.Get("ETag")
		Expect(etag).NotTo(BeEmpty())
		const clients = 20
		statuses := make([]int, clients)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				defer GinkgoRecover()
				resp := primary.put(path, i+2, etag) // never the current count (1)
				statuses[i] = resp.Status
				if resp.Status == http.StatusPreconditionFailed {
					Expect(resp.ErrorMessage()).NotTo(BeEmpty())
				}
			})
		}
		wg.Wait()
		wins := 0
		for _, s := range statuses {
			Expect(s).To(BeElementOf(http.StatusOK, http.StatusPreconditionFailed))
			if s == http.StatusOK {
				wins++
			}
		}
		Expect(wins).To(Equal(1), "statuses: %v", statuses)
	})
})

var _ = Describe("rollout", func() {
	It("really scales: ready pods follow the new count", func() {
		ns := newNamespace("rollout")
		createDeployment(ns, "web", 1)
		path := "/namespaces/" + ns + "/deployments/web/replicas"
		waitServed(primary, path)
		Expect(primary.put(path, 3, "").Status).To(Equal(http.StatusOK))
		Eventually(func() int32 {
			d, err := adminKube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			return d.Status.ReadyReplicas
		}).WithTimeout(90 * time.Second).Should(BeEquivalentTo(3))
		// replicasd's cache follows the status too.
		Eventually(func() float64 {
			v, _ := primary.get(path).JSON()["readyReplicas"].(float64)
			return v
		}).WithTimeout(30 * time.Second).Should(BeEquivalentTo(3))
	})
})

var _ = Describe("least-privilege RBAC", func() {
	It("is enough to serve, and no wider than needed", func() {
		ctx := context.Background()
		ns := newNamespace("rbac")
		createDeployment(ns, "web", 1)
		// What the server does works with the ServiceAccount...
		_, err := saKube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		_, err = saKube.AppsV1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		// ...and nothing else does.
		err = saKube.AppsV1().Deployments(ns).Delete(ctx, "web", metav1.DeleteOptions{})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "delete deployment: %v", err)
		_, err = saKube.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "list secrets: %v", err)
		_, err = saKube.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "create deployment: %v", err)
		_, err = saKube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "list pods: %v", err)
	})
})

// waitSettled waits until the deployment controller has nothing left to
// write: the rollout is complete and observed.
func waitSettled(namespace, name string) {
	GinkgoHelper()
	Eventually(func() bool {
		d, err := adminKube.AppsV1().Deployments(namespace).Get(context.Background(), name, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		return d.Status.ObservedGeneration == d.Generation && d.Status.ReadyReplicas == *d.Spec.Replicas &&
			d.Status.UpdatedReplicas == *d.Spec.Replicas && d.Status.AvailableReplicas == *d.Spec.Replicas
	}).WithTimeout(60 * time.Second).Should(BeTrue())
}

func currentRV(namespace, name string) string {
	GinkgoHelper()
	d, err := adminKube.AppsV1().Deployments(namespace).Get(context.Background(), name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	return d.ResourceVersion
}
