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
