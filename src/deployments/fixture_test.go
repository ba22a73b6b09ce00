package deployments

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/replicasd/replicasd/src/internal/testkit"
)

var deploymentsGVR = appsv1.SchemeGroupVersion.WithResource("deployments")

// firstResourceVersion is where the fixture starts numbering objects. It is
// far above the fake tracker's own list resourceVersions (1 + number of
// writes), so that the two numberings never mix up in a test.
const firstResourceVersion = 1_000_000

// waitTimeout bounds every wait; it only matters when a test fails.
const waitTimeout = 10 * time.Second

// fixture is a fake clientset whose objects carry increasing
// resourceVersions, as a real API server's do, and which implements the
// scale subresource (the fake clientset does not).
type fixture struct {
	t      testing.TB
	client *fake.Clientset
	rv     atomic.Int64
}

func newFixture(t testing.TB, objs ...*appsv1.Deployment) *fixture {
	t.Helper()
	f := &fixture{t: t, client: fake.NewSimpleClientset()}
	f.rv.Store(firstResourceVersion)
	for _, d := range objs {
		f.create(d)
	}
	f.client.PrependReactor("get", "deployments", f.getScale)
	f.client.PrependReactor("update", "deployments", f.updateScale)
	f.client.PrependReactor("list", "deployments", f.list)
	return f
}

// list answers from the tracker with the newest resourceVersion as the
// list's, as a real API server does (the plain fake counts its own writes).
func (f *fixture) list(action k8stesting.Action) (bool, runtime.Object, error) {
	handled, obj, err := k8stesting.ObjectReaction(f.client.Tracker())(action)
	if l, ok := obj.(*appsv1.DeploymentList); ok && err == nil {
		l.ResourceVersion = strconv.FormatInt(f.rv.Load(), 10)
	}
	return handled, obj, err
}

// skip moves the API's resourceVersion on by n without a Deployment
// changing, as writes to other resources do, and returns the new one.
func (f *fixture) skip(n int64) string { return strconv.FormatInt(f.rv.Add(n), 10) }

// lists counts the list calls on Deployments.
func (f *fixture) lists() int {
	return f.countActions(func(a k8stesting.Action) bool { return a.GetVerb() == "list" })
}

func (f *fixture) nextRV() string { return strconv.FormatInt(f.rv.Add(1), 10) }

// create stores d with a new resourceVersion and returns that version.
func (f *fixture) create(d *appsv1.Deployment) string {
	f.t.Helper()
	d = d.DeepCopy()
	d.ResourceVersion = f.nextRV()
	if err := f.client.Tracker().Create(deploymentsGVR, d, d.Namespace); err != nil {
		f.t.Fatalf("create %s/%s: %v", d.Namespace, d.Name, err)
	}
	return d.ResourceVersion
}

// update applies change to the stored namespace/name, gives it a new
// resourceVersion and returns that version. It is safe inside a reactor.
func (f *fixture) update(namespace, name string, change func(*appsv1.Deployment)) (string, error) {
	obj, err := f.client.Tracker().Get(deploymentsGVR, namespace, name)
	if err != nil {
		return "", err
	}
	d := obj.(*appsv1.Deployment).DeepCopy()
	change(d)
	d.ResourceVersion = f.nextRV()
	if err := f.client.Tracker().Update(deploymentsGVR, d, namespace); err != nil {
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
	if err := f.client.Tracker().Delete(deploymentsGVR, namespace, name); err != nil {
		f.t.Fatalf("delete %s/%s: %v", namespace, name, err)
	}
}

func (f *fixture) stored(namespace, name string) *appsv1.Deployment {
	f.t.Helper()
	obj, err := f.client.Tracker().Get(deploymentsGVR, namespace, name)
	if err != nil {
		f.t.Fatalf("get %s/%s: %v", namespace, name, err)
	}
	return obj.(*appsv1.Deployment)
}

func scaleOf(d *appsv1.Deployment) *autoscalingv1.Scale {
	return &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace, UID: d.UID, ResourceVersion: d.ResourceVersion},
		Spec:       autoscalingv1.ScaleSpec{Replicas: specReplicas(d)},
		Status:     autoscalingv1.ScaleStatus{Replicas: d.Status.Replicas},
	}
}

func (f *fixture) getScale(action k8stesting.Action) (bool, runtime.Object, error) {
	get := action.(k8stesting.GetAction)
	if get.GetSubresource() != "scale" {
		return false, nil, nil
	}
	obj, err := f.client.Tracker().Get(deploymentsGVR, get.GetNamespace(), get.GetName())
	if err != nil {
		return true, nil, err
	}
	return true, scaleOf(obj.(*appsv1.Deployment)), nil
}

// updateScale writes spec.replicas with the API server's optimistic
// locking: a resourceVersion other than the stored one is a conflict.
func (f *fixture) updateScale(action k8stesting.Action) (bool, runtime.Object, error) {
	update := action.(k8stesting.UpdateAction)
	if update.GetSubresource() != "scale" {
		return false, nil, nil
	}
	scale := update.GetObject().(*autoscalingv1.Scale)
	cur, err := f.client.Tracker().Get(deploymentsGVR, update.GetNamespace(), scale.Name)
	if err != nil {
		return true, nil, err
	}
	if rv := scale.ResourceVersion; rv != "" && rv != cur.(*appsv1.Deployment).ResourceVersion {
		return true, nil, conflict(scale.Name)
	}
	if _, err := f.update(update.GetNamespace(), scale.Name, func(d *appsv1.Deployment) {
		d.Spec.Replicas = new(scale.Spec.Replicas)
	}); err != nil {
		return true, nil, err
	}
	obj, err := f.client.Tracker().Get(deploymentsGVR, update.GetNamespace(), scale.Name)
	if err != nil {
		return true, nil, err
	}
	return true, scaleOf(obj.(*appsv1.Deployment)), nil
}

func conflict(name string) error {
	return apierrors.NewConflict(appsv1.Resource("deployments"), name,
		fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
}

// scaleUpdates counts the update calls on the scale subresource.
func (f *fixture) scaleUpdates() int {
	return f.countActions(func(a k8stesting.Action) bool {
		return a.GetVerb() == "update" && a.GetSubresource() == "scale"
	})
}

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
