// Package fakecluster is a fake Kubernetes clientset for tests of the
// deployments cache and scaler and of the parts above them (app, api
// wiring, metrics, audit): objects carry
// increasing resourceVersions as on a real API server, and the Deployment
// scale subresource works with optimistic locking, which the plain fake
// clientset does not implement.
package fakecluster

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

var gvr = appsv1.SchemeGroupVersion.WithResource("deployments")

// Cluster wraps a fake clientset.
type Cluster struct {
	*fake.Clientset
	rv atomic.Int64
	// watches counts the watches started. An informer lists, then
	// watches, and the fake tracker does not replay what changed between
	// the two (a real API server resumes from the list's resourceVersion),
	// so a test that writes right after the cache synced waits for the
	// watch first (WaitForWatches).
	watches atomic.Int64
}

// New returns a Cluster holding deps, numbering resourceVersions from 1000.
func New(deps ...*appsv1.Deployment) (*Cluster, error) {
	return NewStartingAt(1000, deps...)
}

// NewStartingAt returns a Cluster holding deps, numbering resourceVersions
// on from first. A first far above the number of writes a test makes keeps
// them apart from the plain fake tracker's own list resourceVersions.
func NewStartingAt(first int64, deps ...*appsv1.Deployment) (*Cluster, error) {
	c := &Cluster{Clientset: fake.NewSimpleClientset()}
	c.rv.Store(first)
	for _, d := range deps {
		if _, err := c.Create(d); err != nil {
			return nil, err
		}
	}
	c.PrependReactor("get", "deployments", c.getScale)
	c.PrependReactor("update", "deployments", c.updateScale)
	c.PrependReactor("list", "deployments", c.list)
	c.PrependWatchReactor("*", c.watch)
	return c, nil
}

// watch starts a watch on the tracker and counts it, as client-go's own
// fake-informer example does to know when the watch is in place.
func (c *Cluster) watch(action k8stesting.Action) (bool, watch.Interface, error) {
	w, err := c.Tracker().Watch(action.GetResource(), action.GetNamespace())
	if err != nil {
		return false, nil, err
	}
	c.watches.Add(1)
	return true, w, nil
}

// WaitForWatches waits until at least n watches have been started, for at
// most timeout, and reports whether they were.
func (c *Cluster) WaitForWatches(n int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for c.watches.Load() < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// list answers from the tracker with the newest resourceVersion as the
// list's, as a real API server does (the plain fake counts its own writes).
func (c *Cluster) list(action k8stesting.Action) (bool, runtime.Object, error) {
	handled, obj, err := k8stesting.ObjectReaction(c.Tracker())(action)
	if l, ok := obj.(*appsv1.DeploymentList); ok && err == nil {
		l.ResourceVersion = strconv.FormatInt(c.rv.Load(), 10)
	}
	return handled, obj, err
}

// Advance moves the API's resourceVersion on by n without a Deployment
// changing, as writes to other resources do, and returns the new one: a
// cache of Deployments never hears of it.
func (c *Cluster) Advance(n int64) string { return strconv.FormatInt(c.rv.Add(n), 10) }

// ResourceVersion returns the API's newest resourceVersion.
func (c *Cluster) ResourceVersion() int64 { return c.rv.Load() }

// Deployment returns a minimal Deployment.
func Deployment(namespace, name string, replicas int32, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
	}
}

func (c *Cluster) nextRV() string { return strconv.FormatInt(c.rv.Add(1), 10) }

// Create stores a copy of d with a new resourceVersion and returns it.
func (c *Cluster) Create(d *appsv1.Deployment) (*appsv1.Deployment, error) {
	d = d.DeepCopy()
	d.ResourceVersion = c.nextRV()
	return d, c.Tracker().Create(gvr, d, d.Namespace)
}

// Delete removes the stored Deployment.
func (c *Cluster) Delete(namespace, name string) error {
	return c.Tracker().Delete(gvr, namespace, name)
}

// Update changes the stored Deployment and gives it a new resourceVersion.
// It is safe inside a reactor.
func (c *Cluster) Update(namespace, name string, change func(*appsv1.Deployment)) (*appsv1.Deployment, error) {
	obj, err := c.Tracker().Get(gvr, namespace, name)
	if err != nil {
		return nil, err
	}
	d := obj.(*appsv1.Deployment).DeepCopy()
	change(d)
	d.ResourceVersion = c.nextRV()
	return d, c.Tracker().Update(gvr, d, namespace)
}

// Stored returns the Deployment as the fake API server holds it.
func (c *Cluster) Stored(namespace, name string) (*appsv1.Deployment, error) {
	obj, err := c.Tracker().Get(gvr, namespace, name)
	if err != nil {
		return nil, err
	}
	return obj.(*appsv1.Deployment), nil
}

// ScaleUpdates counts update calls on the scale subresource.
func (c *Cluster) ScaleUpdates() int {
	n := 0
	for _, a := range c.Actions() {
		if a.GetVerb() == "update" && a.GetSubresource() == "scale" {
			n++
		}
	}
	return n
}

func scaleOf(d *appsv1.Deployment) *autoscalingv1.Scale {
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	return &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace, UID: d.UID, ResourceVersion: d.ResourceVersion},
		Spec:       autoscalingv1.ScaleSpec{Replicas: replicas},
		Status:     autoscalingv1.ScaleStatus{Replicas: d.Status.Replicas},
	}
}

func (c *Cluster) getScale(action k8stesting.Action) (bool, runtime.Object, error) {
	get := action.(k8stesting.GetAction)
	if get.GetSubresource() != "scale" {
		return false, nil, nil
	}
	d, err := c.Stored(get.GetNamespace(), get.GetName())
	if err != nil {
		return true, nil, err
	}
	return true, scaleOf(d), nil
}

// Conflict is the API server's answer to a write of Deployment name with a
// resourceVersion other than the stored one.
func Conflict(name string) error {
	return apierrors.NewConflict(appsv1.Resource("deployments"), name,
		fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
}

// updateScale writes spec.replicas with the API server's optimistic
// locking: a resourceVersion other than the stored one is a conflict.
func (c *Cluster) updateScale(action k8stesting.Action) (bool, runtime.Object, error) {
	update := action.(k8stesting.UpdateAction)
	if update.GetSubresource() != "scale" {
		return false, nil, nil
	}
	scale := update.GetObject().(*autoscalingv1.Scale)
	cur, err := c.Stored(update.GetNamespace(), scale.Name)
	if err != nil {
		return true, nil, err
	}
	if scale.ResourceVersion != "" && scale.ResourceVersion != cur.ResourceVersion {
		return true, nil, Conflict(scale.Name)
	}
	d, err := c.Update(update.GetNamespace(), scale.Name, func(d *appsv1.Deployment) {
		d.Spec.Replicas = &scale.Spec.Replicas
	})
	if err != nil {
		return true, nil, err
	}
	return true, scaleOf(d), nil
}
