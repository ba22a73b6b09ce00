package kube

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// fieldManager is the manager kubectl's client-side apply records, so the
// seeded objects' managedFields look like applied ones.
const fieldManager = "kubectl-client-side-apply"

// Seed makes the namespace hold exactly Deployments 0..n-1: it creates the
// missing ones and deletes those beyond n, with concurrency requests in
// flight, and gives every paused one the status the deployment controller
// would compute (see SettledStatus). It is idempotent.
func Seed(ctx context.Context, client kubernetes.Interface, n, concurrency int, log *slog.Logger) error {
	start := time.Now()
	if err := ensureNamespace(ctx, client); err != nil {
		return err
	}
	existing, err := listSeeded(ctx, client)
	if err != nil {
		return err
	}
	var toCreate, toSettle []int
	var toDelete []string
	for i := range n {
		d, ok := existing[i]
		switch {
		case !ok:
			toCreate = append(toCreate, i)
		case d.Spec.Paused && d.Status.ObservedGeneration != d.Generation:
			toSettle = append(toSettle, i)
		}
	}
	for i, d := range existing {
		if i >= n {
			toDelete = append(toDelete, d.Name)
		}
	}
	log.Info("seeding deployments", "namespace", Namespace, "want", n, "existing", len(existing),
		"create", len(toCreate), "delete", len(toDelete))
	apps := client.AppsV1().Deployments(Namespace)
	var created, deleted atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for _, i := range toCreate {
		g.Go(func() error {
			d, err := apps.Create(gctx, Deployment(i), metav1.CreateOptions{FieldManager: fieldManager})
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("creating deployment %s: %w", Name(i), err)
			}
			created.Add(1)
			if d.Spec.Paused {
				return settle(gctx, client, d)
			}
			return nil
		})
	}
	for _, i := range toSettle {
		g.Go(func() error { return settle(gctx, client, existing[i]) })
	}
	toDelete, err = deleteBands(ctx, client, n, existing, toDelete)
	if err != nil {
		return err
	}
	for _, name := range toDelete {
		g.Go(func() error {
			err := apps.Delete(gctx, name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting deployment %s: %w", name, err)
			}
			deleted.Add(1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info("seeded deployments", "namespace", Namespace, "count", n, "created", created.Load(),
		"deleted", deleted.Load(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// deleteBands deletes, one DeleteCollection request per band, every band
// that lies wholly at or beyond n, and returns the names left to delete
// one by one.
func deleteBands(ctx context.Context, client kubernetes.Interface, n int, existing map[int]*appsv1.Deployment, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, nil
	}
	firstWhole := (n + 999) / 1000 * 1000
	bands := map[string]bool{}
	var left []string
	for _, name := range names {
		i, _ := index(name)
		if i >= firstWhole && existing[i].Labels[BandLabel] == Band(i) {
			bands[Band(i)] = true
			continue
		}
		left = append(left, name)
	}
	for band := range bands {
		err := client.AppsV1().Deployments(Namespace).DeleteCollection(ctx, metav1.DeleteOptions{},
			metav1.ListOptions{LabelSelector: BandLabel + "=" + band})
		if err != nil {
			return nil, fmt.Errorf("deleting the deployments of band %s: %w", band, err)
		}
	}
	return left, nil
}

// settle writes SettledStatus; a conflict means the controller got there
// first, which is as good.
func settle(ctx context.Context, client kubernetes.Interface, d *appsv1.Deployment) error {
	d = d.DeepCopy()
	d.Status = SettledStatus(d, metav1.Now())
	_, err := client.AppsV1().Deployments(Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{FieldManager: "replicasd-bench"})
	if err != nil && !apierrors.IsConflict(err) {
		return fmt.Errorf("setting the status of deployment %s: %w", d.Name, err)
	}
	return nil
}

func ensureNamespace(ctx context.Context, client kubernetes.Interface) error {
	_, err := client.CoreV1().Namespaces().Create(ctx,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", Namespace, err)
	}
	return nil
}

// listSeeded returns the seeded Deployments by index, in pages.
func listSeeded(ctx context.Context, client kubernetes.Interface) (map[int]*appsv1.Deployment, error) {
	out := map[int]*appsv1.Deployment{}
	opts := metav1.ListOptions{Limit: 1000}
	for {
		list, err := client.AppsV1().Deployments(Namespace).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("listing deployments in %s: %w", Namespace, err)
		}
		for i := range list.Items {
			d := &list.Items[i]
			idx, ok := index(d.Name)
			if ok {
				out[idx] = d
			}
		}
		if list.Continue == "" {
			return out, nil
		}
		opts.Continue = list.Continue
	}
}

// index parses a Name back to its index.
func index(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "bench-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil && Name(i) == name
}
