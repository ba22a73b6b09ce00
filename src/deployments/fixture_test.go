package deployments

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/replicasd/replicasd/src/deployments/fakecluster"
	"github.com/replicasd/replicasd/src/testkit"
)

var deploymentsGVR = appsv1.SchemeGroupVersion.WithResource("deployments")

// firstResourceVersion is where the fixture starts numbering objects. It is
// far above the fake tracker's own list resourceVersions (1 + number of
// writes), so that the two numberings never mix up in a test.
const firstResourceVersion = 1_000_000

// waitTimeout bounds every wait; it only matters when a test fails.
const waitTimeout = 10 * time.Second

// fixture is the fake cluster the tests of this package share, with
// helpers that fail the test instead of returning errors.
type fixture struct {
	t      testing.TB
	client *fakecluster.Cluster
}

func newFixture(t testing.TB, objs ...*appsv1.Deployment) *fixture {
	t.Helper()
	c, err := fakecluster.NewStartingAt(firstResourceVersion, objs...)
	if err != nil {
		t.Fatalf("fake cluster: %v", err)
	}
	return &fixture{t: t, client: c}
}

// skip moves the API's resourceVersion on by n without a Deployment
// changing, as writes to other resources do, and returns the new one.
func (f *fixture) skip(n int64) string { return f.client.Advance(n) }

// lists counts the list calls on Deployments.
func (f *fixture) lists() int {
	return f.countActions(func(a k8stesting.Action) bool { return a.GetVerb() == "list" })
}

// create stores d with a new resourceVersion and returns that version.
func (f *fixture) create(d *appsv1.Deployment) string {
	f.t.Helper()
	stored, err := f.client.Create(d)
	if err != nil {
		f.t.Fatalf("create %s/%s: %v", d.Namespace, d.Name, err)
	}
	return stored.ResourceVersion
}

// update applies change to the stored namespace/name, gives it a new
// resourceVersion and returns that version. It is safe inside a reactor.
func (f *fixture) update(namespace, name string, change func(*appsv1.Deployment)) (string, error) {
	d, err := f.client.Update(namespace, name, change)
	if err != nil {
		return "", err
	}
	return d.ResourceVersion, nil
}

func (f *fixture) mustUpdate(namespace, name string, change func(*appsv1.Deployment)) string {
	f.t.Helper()
	rv, err := f.update(namespace, name, change)
	if err != nil {
		f.t.Fatalf("update %s/%s: %v", namespace, name, err)
	}
	return rv
}

func (f *fixture) remove(namespace, name string) {
	f.t.Helper()
	if err := f.client.Delete(namespace, name); err != nil {
		f.t.Fatalf("delete %s/%s: %v", namespace, name, err)
	}
}

func (f *fixture) stored(namespace, name string) *appsv1.Deployment {
	f.t.Helper()
	d, err := f.client.Stored(namespace, name)
	if err != nil {
		f.t.Fatalf("get %s/%s: %v", namespace, name, err)
	}
	return d
}

// scaleUpdates counts the update calls on the scale subresource.
func (f *fixture) scaleUpdates() int { return f.client.ScaleUpdates() }

// scaleCalls counts every call on the scale subresource.
func (f *fixture) scaleCalls() int {
	return f.countActions(func(a k8stesting.Action) bool { return a.GetSubresource() == "scale" })
}

func (f *fixture) countActions(match func(k8stesting.Action) bool) int {
	n := 0
	for _, a := range f.client.Actions() {
		if match(a) {
			n++
		}
	}
	return n
}

// deployment returns a Deployment with everything the transform must drop.
func deployment(namespace, name string, replicas int32, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         namespace,
			Name:              name,
			UID:               types.UID("uid-" + namespace + "-" + name),
			Generation:        3,
			CreationTimestamp: metav1.NewTime(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)),
			Labels:            labels,
			Annotations: map[string]string{
				"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"apps/v1","kind":"Deployment"}`,
			},
			ManagedFields: []metav1.ManagedFieldsEntry{{
				Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply, APIVersion: "apps/v1",
				FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{}}}`),
			}},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Thing", Name: "owner", UID: "owner-uid"}},
			Finalizers:      []string{"example.com/finalizer"},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "registry.example.com/app:1.0",
					Env: []corev1.EnvVar{{Name: "MODE", Value: "production"}},
				}}},
			},
		},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 3, Replicas: replicas, UpdatedReplicas: replicas,
			ReadyReplicas: replicas, AvailableReplicas: replicas, UnavailableReplicas: 0,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue}},
		},
	}
}

// startCache starts a cache on f.client and waits for it to sync; the
// informers stop when the test ends.
func startCache(t testing.TB, f *fixture, cfg CacheConfig) *Cache {
	t.Helper()
	c, err := NewCache(f.client, cfg, testkit.TestLogger(t))
	if err != nil {
		t.Fatalf("NewCache: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	// One informer per namespace, or one for all: writes made before its
	// watch is in place would never reach the cache of the fake.
	informers := int64(max(len(cfg.Namespaces), 1))
	if !f.client.WaitForWatches(informers, waitTimeout) {
		t.Fatalf("the cache's %d watches did not start within %v", informers, waitTimeout)
	}
	return c
}

// receive waits for a value on ch, failing the test after a generous deadline.
func receive[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("nothing received within %v", waitTimeout)
		panic("unreachable")
	}
}

// specReplicas is spec.replicas of an API object, 1 when unset.
func specReplicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}
