package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

// The Helm chart's rendered manifests must be accepted by a real API server
// (admission, schema, the restricted Pod Security level), for every variant
// whose API groups the cluster has.
var _ = Describe("the Helm chart", func() {
	It("renders manifests that pass a server-side dry run", func() {
		ctx := context.Background()
		release := "e2e-" + rand.String(5)
		ns := "e2e-chart-" + rand.String(5)
		_, err := adminKube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:   ns,
			Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"},
		}}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = adminKube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}) })

		out := GinkgoT().TempDir()
		cmd := exec.Command(filepath.Join(repo, "scripts", "helm-render.sh"), "--namespace", ns, "--release", release, out)
		cmd.Dir = repo
		b, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(b))

		index, err := os.ReadFile(filepath.Join(out, "index.tsv"))
		Expect(err).NotTo(HaveOccurred())
		checked := 0
		for _, line := range strings.Split(strings.TrimSpace(string(index)), "\n") {
			fields := strings.Split(line, "\t")
			Expect(fields).To(HaveLen(4), "index line %q", line)
			variant, file, groups, namespaces := fields[0], fields[1], fields[2], fields[3]
			if groups != "-" {
				GinkgoWriter.Printf("skipping variant %s: needs the CRDs of %s\n", variant, groups)
				continue
			}
			if namespaces != "-" {
				for _, extra := range strings.Split(namespaces, ",") {
					_, err := adminKube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: extra}}, metav1.CreateOptions{})
					if err == nil {
						DeferCleanup(func() { _ = adminKube.CoreV1().Namespaces().Delete(ctx, extra, metav1.DeleteOptions{}) })
					}
				}
			}
			if !filepath.IsAbs(file) {
				file = filepath.Join(out, filepath.Base(file))
			}
			res, err := kubectl("apply", "--dry-run=server", "--warnings-as-errors", "-f", file)
			Expect(err).NotTo(HaveOccurred(), "variant %s: %s", variant, res)
			checked++
		}
		Expect(checked).To(BeNumerically(">=", 5), "variants dry-run")
	})
})

// In external mode the least-privilege RBAC spec checks the token of the
// server's ServiceAccount: it proves the chart's RBAC only if every grant
// that token has is the chart's (deploy/rbac binds the same ServiceAccount
// under other names, and would widen or replace what is tested).
var _ = Describe("the chart's RBAC as installed (external mode)", func() {
	It("grants the server's ServiceAccount through the chart's bindings and roles only", func() {
		if !external() {
			Skip("the suite installed deploy/rbac itself: no chart is installed (make e2e-external runs this spec)")
		}
		ctx := context.Background()
		fromChart := func(kind, name string, labels map[string]string) {
			GinkgoHelper()
			Expect(labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "Helm"), "%s %s is not the chart's", kind, name)
			Expect(labels).To(HaveKey("helm.sh/chart"), "%s %s is not the chart's", kind, name)
		}
		sa, err := adminKube.CoreV1().ServiceAccounts("replicasd-system").Get(ctx, "replicasd", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		fromChart("ServiceAccount", sa.Name, sa.Labels)

		grants := func(subjects []rbacv1.Subject) bool {
			for _, s := range subjects {
				if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == sa.Namespace && s.Name == sa.Name {
					return true
				}
			}
			return false
		}
		found := 0
		crbs, err := adminKube.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, b := range crbs.Items {
			if !grants(b.Subjects) {
				continue
			}
			found++
			fromChart("ClusterRoleBinding", b.Name, b.Labels)
			role, err := adminKube.RbacV1().ClusterRoles().Get(ctx, b.RoleRef.Name, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			fromChart("ClusterRole", role.Name, role.Labels)
		}
		rbs, err := adminKube.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		for _, b := range rbs.Items {
			if grants(b.Subjects) {
				found++
				fromChart("RoleBinding", b.Namespace+"/"+b.Name, b.Labels)
			}
		}
		Expect(found).To(BeNumerically(">=", 1), "no binding grants %s/%s anything", sa.Namespace, sa.Name)
	})
})
