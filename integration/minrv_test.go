package integration

import (
	"context"
	"net/http"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/replicasd/replicasd/src/app"
)

// With several --namespace, each namespace has its own informer, and one
// without changes moves on only with a watch bookmark (about once a
// minute). A list after a write through another replica must not wait for
// it: a quiet namespace whose cache holds what the API lists is caught up.
var _ = Describe("minResourceVersion with several --namespace", func() {
	var (
		busy, quiet string
		r           *replicasd
	)

	BeforeEach(func() {
		busy, quiet = newNamespace(), newNamespace()
		createDeployment(busy, "web", 1, nil)
		createDeployment(quiet, "db", 2, nil)
		r = startReplicasd(adminCfg, func(c *app.Config) {
			c.Namespaces = []string{busy, quiet}
			// Far shorter than a bookmark's minute: only a cache that
			// knows the quiet namespace is current answers in time.
			c.MinResourceVersionTimeout = 5 * time.Second
		})
		r.waitReady()
		// Right after start-up, kube-apiserver sends a new watch a
		// bookmark as soon as its watch cache passes the watch's starting
		// point, so the first write could reach a quiet namespace that
		// way; after it, a quiet namespace's watch moves only with the
		// next bookmark, a minute on. So the specs write once the server
		// shows a write made elsewhere. (Without the fix, this wait
		// itself, or the specs' first GET, answers 504.)
		elsewhere := createDeployment(newNamespace(), "elsewhere", 1, nil)
		Eventually(func() int {
			return r.get("/deployments?minResourceVersion=" + elsewhere.ResourceVersion).Status
		}).WithTimeout(30 * time.Second).WithPolling(200 * time.Millisecond).Should(Equal(http.StatusOK))
	})

	// writeDirectly scales busy/web as another replica (or kubectl) would,
	// not through this server, and returns the new resourceVersion.
	writeDirectly := func(replicas int32) string {
		GinkgoHelper()
		d, err := adminKube.AppsV1().Deployments(busy).Get(context.Background(), "web", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		d.Spec.Replicas = &replicas
		d, err = adminKube.AppsV1().Deployments(busy).Update(context.Background(), d, metav1.UpdateOptions{})
		Expect(err).NotTo(HaveOccurred())
		return d.ResourceVersion
	}

	It("answers the all-namespaces list after a write in one namespace with 200 and the write, not 504", func() {
		rv := writeDirectly(4)
		resp := r.get("/deployments?minResourceVersion=" + rv)
		Expect(resp.Status).To(Equal(http.StatusOK), resp.Body)
		Expect(resp.Body).To(ContainSubstring(`"namespace":"` + busy + `","name":"web","replicaCount":4`))
		Expect(resp.Body).To(ContainSubstring(`"namespace":"` + quiet + `","name":"db","replicaCount":2`))
	})

	It("answers the quiet namespace's own list with 200, not 504", func() {
		rv := writeDirectly(5)
		resp := r.get("/namespaces/" + quiet + "/deployments?minResourceVersion=" + rv)
		Expect(resp.Status).To(Equal(http.StatusOK), resp.Body)
		Expect(resp.Body).To(ContainSubstring(`"name":"db","replicaCount":2`))
	})

	It("still waits for a change the quiet namespace has not delivered yet", func() {
		writeDirectly(6)
		d, err := adminKube.AppsV1().Deployments(quiet).Get(context.Background(), "db", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		d.Spec.Replicas = new(int32(7))
		d, err = adminKube.AppsV1().Deployments(quiet).Update(context.Background(), d, metav1.UpdateOptions{})
		Expect(err).NotTo(HaveOccurred())
		resp := r.get("/deployments?minResourceVersion=" + d.ResourceVersion)
		Expect(resp.Status).To(Equal(http.StatusOK), resp.Body)
		Expect(resp.Body).To(ContainSubstring(`"namespace":"` + quiet + `","name":"db","replicaCount":7`))
	})

	It("answers a minResourceVersion ahead of the Kubernetes API at once with 504 and Retry-After", func() {
		list, err := adminKube.AppsV1().Deployments(busy).List(context.Background(), metav1.ListOptions{Limit: 1})
		Expect(err).NotTo(HaveOccurred())
		current, err := strconv.ParseUint(list.ResourceVersion, 10, 64)
		Expect(err).NotTo(HaveOccurred())
		far := strconv.FormatUint(current+1_000_000_000, 10)
		resp := r.get("/deployments?minResourceVersion=" + far)
		Expect(resp.Status).To(Equal(http.StatusGatewayTimeout), resp.Body)
		Expect(resp.Body).To(ContainSubstring("Too large resource version: " + far))
		Expect(resp.Header.Get("Retry-After")).To(Equal("1"))
	})
})
