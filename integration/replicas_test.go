package integration

import (
	"context"
	"net/http"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/replicasd/replicasd/src/app"
)

func newNamespace() string {
	GinkgoHelper()
	name := "it-" + rand.String(6)
	_, err := adminKube.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return name
}

func createDeployment(namespace, name string, replicas int32, labels map[string]string) *appsv1.Deployment {
	GinkgoHelper()
	if labels == nil {
		labels = map[string]string{}
	}
	labels["app"] = name
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels,
			Annotations: map[string]string{"note": "dropped by the cache's transform"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example/" + name}}},
			},
		},
	}
	d, err := adminKube.AppsV1().Deployments(namespace).Create(context.Background(), d, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return d
}

func specReplicas(namespace, name string) int32 {
	GinkgoHelper()
	d, err := adminKube.AppsV1().Deployments(namespace).Get(context.Background(), name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	return *d.Spec.Replicas
}

func replicaCount(r response) float64 {
	GinkgoHelper()
	Expect(r.Status).To(Equal(http.StatusOK), r.Body)
	return r.JSON()["replicaCount"].(float64)
}

// addUser provisions a Kubernetes user (a client certificate of the test
// API server) bound to the given rules, or to none.
func addUser(name string, rules []rbacv1.PolicyRule) *envtest.AuthenticatedUser {
	GinkgoHelper()
	ctx := context.Background()
	user, err := testEnv.AddUser(envtest.User{Name: name}, adminCfg)
	Expect(err).NotTo(HaveOccurred())
	if rules != nil {
		_, err = adminKube.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		_, err = adminKube.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
			Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: name}},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
	}
	return user
}

var _ = Describe("the informer cache", func() {
	It("syncs, and shows changes made with client-go", func() {
		ns := newNamespace()
		createDeployment(ns, "web", 2, map[string]string{"tier": "frontend"})
		r := startReplicasd(adminCfg, nil)
		r.waitReady()

		Expect(replicaCount(r.get("/namespaces/" + ns + "/deployments/web/replicas"))).To(BeEquivalentTo(2))

		// A change made behind replicasd's back arrives through the watch.
		scale, err := adminKube.AppsV1().Deployments(ns).GetScale(context.Background(), "web", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		scale.Spec.Replicas = 6
		_, err = adminKube.AppsV1().Deployments(ns).UpdateScale(context.Background(), "web", scale, metav1.UpdateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() float64 { return replicaCount(r.get("/namespaces/" + ns + "/deployments/web/replicas")) }).
			WithTimeout(10 * time.Second).Should(BeEquivalentTo(6))

		createDeployment(ns, "api", 1, map[string]string{"tier": "backend"})
		Eventually(func() string { return r.get("/namespaces/" + ns + "/deployments").Body }).
			Should(ContainSubstring(`"name":"api"`))
		list := r.get("/deployments?namespace=" + ns + "&labelSelector=tier%3Dbackend")
		Expect(list.Status).To(Equal(http.StatusOK))
		Expect(list.Body).To(ContainSubstring(`"name":"api"`))
		Expect(list.Body).NotTo(ContainSubstring(`"name":"web"`))

		Expect(adminKube.AppsV1().Deployments(ns).Delete(context.Background(), "api", metav1.DeleteOptions{})).To(Succeed())
		Eventually(func() int { return r.get("/namespaces/" + ns + "/deployments/api/replicas").Status }).
			Should(Equal(http.StatusNotFound))
	})
})

var _ = Describe("scaling through the scale subresource", func() {
	var (
		ns string
		r  *replicasd
	)
	BeforeEach(func() {
		ns = newNamespace()
		createDeployment(ns, "web", 2, nil)
		r = startReplicasd(adminCfg, nil)
		r.waitReady()
	})

	It("writes spec.replicas, and a GET right after shows it", func() {
		resp := r.put("/namespaces/"+ns+"/deployments/web/replicas", 7, "")
		Expect(resp.Status).To(Equal(http.StatusOK), resp.Body)
		Expect(resp.Header.Get("ETag")).To(MatchRegexp(`^"\d+"$`))
		Expect(resp.JSON()).To(HaveKeyWithValue("message", "Replica count updated successfully."))
		Expect(specReplicas(ns, "web")).To(BeEquivalentTo(7))
		got := r.get("/namespaces/" + ns + "/deployments/web/replicas")
		Expect(replicaCount(got)).To(BeEquivalentTo(7))
		Expect(got.Header.Get("ETag")).To(Equal(resp.Header.Get("ETag")))
	})

	It("answers 404 with the envelope for an unknown deployment", func() {
		resp := r.get("/namespaces/" + ns + "/deployments/nope/replicas")
		Expect(resp.Status).To(Equal(http.StatusNotFound))
		Expect(resp.ErrorMessage()).To(ContainSubstring("nope"))
		resp = r.put("/namespaces/"+ns+"/deployments/nope/replicas", 3, "")
		Expect(resp.Status).To(Equal(http.StatusNotFound))
		Expect(resp.ErrorMessage()).To(ContainSubstring("nope"))
	})

	It("answers 412 to a stale If-Match and writes nothing", func() {
		etag := r.get("/namespaces/" + ns + "/deployments/web/replicas").Header.Get("ETag")
		Expect(etag).NotTo(BeEmpty())
		Expect(r.put("/namespaces/"+ns+"/deployments/web/replicas", 4, etag).Status).To(Equal(http.StatusOK))

		resp := r.put("/namespaces/"+ns+"/deployments/web/replicas", 9, etag) // etag is now stale
		Expect(resp.Status).To(Equal(http.StatusPreconditionFailed))
		Expect(resp.ErrorMessage()).NotTo(BeEmpty())
		Expect(specReplicas(ns, "web")).To(BeEquivalentTo(4))
	})

	// Unconditional updates: the API server has no version to conflict on
	// (conflicts_test.go makes it answer 409 to see the retries).
	It("lets concurrent writers without If-Match all succeed, and one of their counts stands", func() {
		counts := []int{3, 5, 8, 13, 21, 34, 55, 89}
		var wg sync.WaitGroup
		statuses := make([]int, len(counts))
		for i, n := range counts {
			wg.Go(func() {
				defer GinkgoRecover()
				statuses[i] = r.put("/namespaces/"+ns+"/deployments/web/replicas", n, "").Status
			})
		}
		wg.Wait()
		Expect(statuses).To(HaveEach(http.StatusOK))
		final := specReplicas(ns, "web")
		Expect(counts).To(ContainElement(int(final)))
		Expect(replicaCount(r.get("/namespaces/" + ns + "/deployments/web/replicas"))).To(BeEquivalentTo(final))
	})

	It("writes nothing when the count is already set", func() {
		before, err := adminKube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		resp := r.put("/namespaces/"+ns+"/deployments/web/replicas", 2, "")
		Expect(resp.Status).To(Equal(http.StatusOK))
		after, err := adminKube.AppsV1().Deployments(ns).Get(context.Background(), "web", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(after.ResourceVersion).To(Equal(before.ResourceVersion))
	})
})

var _ = Describe("namespace scoping", func() {
	It("serves only the watched namespaces and answers 404 for the others", func() {
		watched, other := newNamespace(), newNamespace()
		createDeployment(watched, "web", 1, nil)
		createDeployment(other, "web", 1, nil)
		r := startReplicasd(adminCfg, func(c *app.Config) { c.Namespaces = []string{watched} })
		r.waitReady()
		Expect(r.get("/namespaces/" + watched + "/deployments/web/replicas").Status).To(Equal(http.StatusOK))
		resp := r.get("/namespaces/" + other + "/deployments/web/replicas")
		Expect(resp.Status).To(Equal(http.StatusNotFound))
		Expect(resp.ErrorMessage()).To(ContainSubstring(other))
		resp = r.put("/namespaces/"+other+"/deployments/web/replicas", 3, "")
		Expect(resp.Status).To(Equal(http.StatusNotFound))
		Expect(specReplicas(other, "web")).To(BeEquivalentTo(1))
	})
})

var _ = Describe("a server without enough Kubernetes RBAC", func() {
	It("answers PUT with 500 naming the missing permission when it may only read", func() {
		ns := newNamespace()
		createDeployment(ns, "web", 2, nil)
		reader := addUser("reader-"+rand.String(4), []rbacv1.PolicyRule{{
			APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"},
		}})
		r := startReplicasd(reader.Config(), nil)
		r.waitReady()
		Expect(replicaCount(r.get("/namespaces/" + ns + "/deployments/web/replicas"))).To(BeEquivalentTo(2))

		resp := r.put("/namespaces/"+ns+"/deployments/web/replicas", 5, "")
		Expect(resp.Status).To(Equal(http.StatusInternalServerError))
		msg := resp.ErrorMessage()
		Expect(msg).To(ContainSubstring("not permitted by Kubernetes RBAC"))
		Expect(msg).To(ContainSubstring("deployments/scale"))
		Expect(msg).To(ContainSubstring(`scaling needs verbs get and update on resource "deployments/scale" in API group "apps" in namespace "` + ns + `"`))
		Expect(specReplicas(ns, "web")).To(BeEquivalentTo(2))
	})

	It("names every permission a scale needs when it may only get the scale subresource", func() {
		ns := newNamespace()
		createDeployment(ns, "web", 2, nil)
		halfway := addUser("getscale-"+rand.String(4), []rbacv1.PolicyRule{
			{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments/scale"}, Verbs: []string{"get"}},
		})
		r := startReplicasd(halfway.Config(), nil)
		r.waitReady()

		resp := r.put("/namespaces/"+ns+"/deployments/web/replicas", 5, "")
		Expect(resp.Status).To(Equal(http.StatusInternalServerError))
		msg := resp.ErrorMessage()
		Expect(msg).To(ContainSubstring(`cannot update resource "deployments/scale"`))
		Expect(msg).To(ContainSubstring(`scaling needs verbs get and update on resource "deployments/scale"`))
		Expect(specReplicas(ns, "web")).To(BeEquivalentTo(2))
	})

	It("never becomes ready when it may not list, and logs why", func() {
		nobody := addUser("nolist-"+rand.String(4), nil)
		r := startReplicasd(nobody.Config(), nil)
		// Once the first list has been refused, readiness stays 503 across
		// the informer's next attempts (its backoff starts under a second),
		// well inside the 30 s --cache-sync-timeout.
		Eventually(r.logs.String).Should(MatchRegexp(`lacks RBAC permission to (list|watch) deployments.apps`))
		Consistently(r.readyz).WithTimeout(10*time.Second).WithPolling(100*time.Millisecond).
			Should(Equal(http.StatusServiceUnavailable), "ready without being allowed to list deployments")
		resp := r.get("/deployments")
		Expect(resp.Status).To(Equal(http.StatusServiceUnavailable))
		Expect(resp.Header.Get("Retry-After")).NotTo(BeEmpty())
		Expect(resp.ErrorMessage()).NotTo(BeEmpty())
		Eventually(r.logs.String).Should(MatchRegexp(`lacks RBAC permission to (list|watch) deployments.apps`))
	})
})

var _ = Describe("when kube-apiserver goes away", Serial, func() {
	It("reports unhealthy, keeps serving reads, refuses writes with 503, and recovers", func() {
		ns := newNamespace()
		createDeployment(ns, "web", 2, nil)
		// Earlier specs' servers have returned from Run; what they started
		// may still be unwinding on a loaded machine.
		Eventually(serverGoroutines).WithTimeout(30*time.Second).Should(BeEmpty(), "goroutines left by earlier specs")
		r := startReplicasd(adminCfg, nil)
		r.waitReady()
		path := "/namespaces/" + ns + "/deployments/web/replicas"

		apiServer := testEnv.ControlPlane.GetAPIServer()
		stopStart := time.Now()
		Expect(apiServer.Stop()).To(Succeed())
		GinkgoWriter.Printf("kube-apiserver stopped in %s\n", time.Since(stopStart))
		restarted := false
		defer func() {
			if !restarted {
				Expect(apiServer.Start()).To(Succeed())
			}
		}()

		Eventually(func() int { return r.get("/health").Status }).WithTimeout(10 * time.Second).
			Should(Equal(http.StatusServiceUnavailable))
		health := r.get("/health").JSON()
		Expect(health).To(HaveKeyWithValue("status", "unhealthy"))
		Expect(health).To(HaveKeyWithValue("kubernetes", "disconnected"))
		Expect(health).To(HaveKey("error"))
		Eventually(r.readyz).WithTimeout(10 * time.Second).Should(Equal(http.StatusServiceUnavailable))

		// Reads keep coming from the cache.
		Expect(replicaCount(r.get(path))).To(BeEquivalentTo(2))
		// Writes cannot reach Kubernetes.
		resp := r.put(path, 5, "")
		Expect(resp.Status).To(Equal(http.StatusServiceUnavailable), resp.Body)
		Expect(resp.Header.Get("Retry-After")).NotTo(BeEmpty())
		Expect(resp.ErrorMessage()).NotTo(BeEmpty())

		Expect(apiServer.Start()).To(Succeed())
		restarted = true
		Eventually(func() int { return r.get("/health").Status }).WithTimeout(30 * time.Second).
			Should(Equal(http.StatusOK))
		Eventually(r.readyz).WithTimeout(30 * time.Second).Should(Equal(http.StatusOK))
		Eventually(func() int { return r.put(path, 5, "").Status }).WithTimeout(30 * time.Second).
			Should(Equal(http.StatusOK))
		Expect(specReplicas(ns, "web")).To(BeEquivalentTo(5))
		Expect(replicaCount(r.get(path))).To(BeEquivalentTo(5))

		// No goroutine of the server outlives it: its informers, reloader,
		// health prober and HTTP servers all stop. (Connections in
		// client-go's shared transport cache belong to the process.)
		r.stop()
		Eventually(serverGoroutines).WithTimeout(30 * time.Second).Should(BeEmpty())
	})
})

// serverGoroutines returns the stacks of goroutines running replicasd's own
// code or its informers.
func serverGoroutines() []string {
	var buf strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
	var found []string
	for _, g := range strings.Split(buf.String(), "\n\n") {
		if strings.Contains(g, "github.com/replicasd/replicasd/src/") ||
			strings.Contains(g, "k8s.io/client-go/tools/cache.") {
			found = append(found, g)
		}
	}
	return found
}
