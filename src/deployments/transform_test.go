package deployments

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// stripped is what StripDeployment must leave of deployment(ns, name, ...).
func stripped(full *appsv1.Deployment) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: full.Name, Namespace: full.Namespace, UID: full.UID,
			ResourceVersion: full.ResourceVersion, Generation: full.Generation,
			CreationTimestamp: full.CreationTimestamp, Labels: full.Labels,
		},
		Spec: appsv1.DeploymentSpec{Replicas: full.Spec.Replicas},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: full.Status.ObservedGeneration, Replicas: full.Status.Replicas,
			UpdatedReplicas: full.Status.UpdatedReplicas, ReadyReplicas: full.Status.ReadyReplicas,
			AvailableReplicas: full.Status.AvailableReplicas, UnavailableReplicas: full.Status.UnavailableReplicas,
		},
	}
}

func TestStripDeployment(t *testing.T) {
	full := deployment("team-a", "web", 3, map[string]string{"app": "web"})
	full.ResourceVersion = "42"
	full.Status.UnavailableReplicas = 1
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"a": "b"}}}

	tests := []struct {
		name string
		in   any
		want any
	}{
		{name: "deployment", in: full.DeepCopy(), want: stripped(full)},
		{name: "already stripped (idempotent)", in: stripped(full), want: stripped(full)},
		{
			name: "tombstone",
			in:   cache.DeletedFinalStateUnknown{Key: "team-a/web", Obj: full.DeepCopy()},
			want: cache.DeletedFinalStateUnknown{Key: "team-a/web", Obj: stripped(full)},
		},
		{
			name: "tombstone of another type",
			in:   cache.DeletedFinalStateUnknown{Key: "x/p", Obj: other.DeepCopy()},
			want: cache.DeletedFinalStateUnknown{Key: "x/p", Obj: other.DeepCopy()},
		},
		{name: "another type passes through", in: other.DeepCopy(), want: other.DeepCopy()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := StripDeployment(tt.in)
			if err != nil {
				t.Fatalf("StripDeployment: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("StripDeployment:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestCacheTransform checks what the informer actually stores.
func TestCacheTransform(t *testing.T) {
	tests := []struct {
		name             string
		disableTransform bool
		wantStripped     bool
	}{
		{name: "transform on", wantStripped: true},
		{name: "transform off", disableTransform: true, wantStripped: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full := deployment("team-a", "web", 3, map[string]string{"app": "web"})
			f := newFixture(t, full)
			c := startCache(t, f, CacheConfig{DisableTransform: tt.disableTransform})

			got, err := c.Get("team-a", "web")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			stored := f.stored("team-a", "web")
			want := stored
			if tt.wantStripped {
				want = stripped(stored)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("cached object:\n got %#v\nwant %#v", got, want)
			}
			hasExtras := got.ManagedFields != nil || got.Annotations != nil || len(got.Spec.Template.Spec.Containers) > 0
			if hasExtras == tt.wantStripped {
				t.Errorf("managedFields/annotations/template present = %v, want %v", hasExtras, !tt.wantStripped)
			}
		})
	}
}

func TestReplicas(t *testing.T) {
	tests := []struct {
		name string
		spec *int32
		want int32
	}{
		{name: "unset means 1", spec: nil, want: 1},
		{name: "zero", spec: new(int32(0)), want: 0},
		{name: "set", spec: new(int32(7)), want: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: tt.spec}}
			if got := Replicas(d); got != tt.want {
				t.Errorf("Replicas = %d, want %d", got, tt.want)
			}
		})
	}
}
