package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/replicasd/replicasd/src/certs"
)

// conflictWebhook is a validating admission webhook on deployments/scale
// updates in one namespace that answers 409 Conflict to the next deny
// updates, as kube-apiserver itself does when another writer got there
// first. Without If-Match the scaler's update is unconditional, so only
// such a webhook makes a real API server answer 409 to it.
type conflictWebhook struct {
	mu      sync.Mutex
	deny    int // updates still to refuse
	denied  int // updates refused (dry runs aside)
	allowed int // updates let through (dry runs aside)
}

func (c *conflictWebhook) setDeny(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deny, c.denied, c.allowed = n, 0, 0
}

func (c *conflictWebhook) counts() (denied, allowed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.denied, c.allowed
}

func (c *conflictWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer GinkgoRecover()
	var review admissionv1.AdmissionReview
	Expect(json.NewDecoder(r.Body).Decode(&review)).To(Succeed())
	resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	conflict := &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusConflict, Reason: metav1.StatusReasonConflict}
	c.mu.Lock()
	switch {
	case ptr.Deref(review.Request.DryRun, false):
		// The spec's probe that the webhook is in force.
		resp.Allowed, resp.Result = false, conflict
		conflict.Message = "probe"
	case c.deny > 0:
		c.deny--
		c.denied++
		resp.Allowed, resp.Result = false, conflict
		conflict.Message = "the object has been modified; please apply your changes to the latest version and try again"
	default:
		c.allowed++
	}
	c.mu.Unlock()
	review.Response, review.Request = resp, nil
	w.Header().Set("Content-Type", "application/json")
	Expect(json.NewEncoder(w).Encode(&review)).To(Succeed())
}

// installConflictWebhook serves a conflictWebhook and registers it for ns
// until the spec ends; it returns once kube-apiserver calls it.
func installConflictWebhook(ns string) *conflictWebhook {
	GinkgoHelper()
	ctx := context.Background()
	ca, err := certs.NewCA("webhook-ca")
	Expect(err).NotTo(HaveOccurred())
	serving, err := ca.IssueServer(nil)
	Expect(err).NotTo(HaveOccurred())
	hook := &conflictWebhook{}
	srv := httptest.NewUnstartedServer(hook)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serving.TLSCertificate()}}
	srv.StartTLS()
	DeferCleanup(srv.Close)

	url := srv.URL + "/validate"
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "conflicts-" + ns},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         "conflicts.replicasd.test",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: ca.CertPEM},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"},
					Resources: []string{"deployments/scale"}, Scope: ptr.To(admissionregistrationv1.NamespacedScope)},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](10),
		}},
	}
	_, err = adminKube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, cfg, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		_ = adminKube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), cfg.Name, metav1.DeleteOptions{})
	})
	// kube-apiserver picks the configuration up asynchronously: a dry-run
	// update answers 409 once the webhook is in force.
	Eventually(func() error {
		scale, err := adminKube.AppsV1().Deployments(ns).GetScale(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		_, err = adminKube.AppsV1().Deployments(ns).UpdateScale(ctx, "web", scale, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	}).Should(Satisfy(apierrors.IsConflict))
	return hook
}

var _ = Describe("conflicts kube-apiserver answers to a PUT without If-Match", func() {
	It("are retried until the update goes through, and the new count stands", func() {
		ns := newNamespace()
		createDeployment(ns, "web", 2, nil)
		hook := installConflictWebhook(ns)
		r := startReplicasd(adminCfg, nil)
		r.waitReady()

		hook.setDeny(3)
		resp := r.put("/namespaces/"+ns+"/deployments/web/replicas", 7, "")
		Expect(resp.Status).To(Equal(http.StatusOK), resp.Body)
		denied, allowed := hook.counts()
		Expect(denied).To(Equal(3), "updates answered 409")
		Expect(allowed).To(Equal(1), "updates let through after the conflicts")
		Expect(specReplicas(ns, "web")).To(BeEquivalentTo(7))
		Expect(replicaCount(r.get("/namespaces/" + ns + "/deployments/web/replicas"))).To(BeEquivalentTo(7))
	})
})
