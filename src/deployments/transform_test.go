package deployments

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

func TestFromAPI(t *testing.T) {
	full := deployment("team-a", "web", 3, map[string]string{"tier": "front", "app": "web"})
	full.ResourceVersion = "42"
	full.Status.ReadyReplicas, full.Status.AvailableReplicas, full.Status.UpdatedReplicas = 2, 1, 3

	unset := full.DeepCopy()
	unset.Spec.Replicas = nil
	unset.CreationTimestamp = metav1.Time{}
	unset.Labels = nil

	tests := []struct {
		name string
		in   *appsv1.Deployment
		want *Deployment
	}{
		{
			name: "every served field",
			in:   full,
			want: &Deployment{
				Namespace: "team-a", Name: "web", ResourceVersion: "42",
				Labels:       Labels{"app", "web", "tier", "front"},
				CreationUnix: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).Unix(),
				Replicas:     3, ReadyReplicas: 2, AvailableReplicas: 1, UpdatedReplicas: 3,
			},
		},
		{
			name: "unset spec.replicas is 1, no creation time, no labels",
			in:   unset,
			want: &Deployment{
				Namespace: "team-a", Name: "web", ResourceVersion: "42",
				Replicas: 1, ReadyReplicas: 2, AvailableReplicas: 1, UpdatedReplicas: 3,
			},
		},
		{
			name: "zero replicas stays zero",
			in:   &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "b"}, Spec: appsv1.DeploymentSpec{Replicas: new(int32(0))}},
			want: &Deployment{Namespace: "a", Name: "b", Replicas: 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromAPI(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromAPI:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestCreationTimestamp(t *testing.T) {
	when := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if got := (&Deployment{CreationUnix: when.Unix()}).CreationTimestamp(); !got.Equal(when) || got.Location() != time.UTC {
		t.Errorf("CreationTimestamp = %v, want %v in UTC", got, when)
	}
	if got := (&Deployment{}).CreationTimestamp(); !got.IsZero() {
		t.Errorf("unset CreationTimestamp = %v, want the zero time", got)
	}
}

func TestStripDeployment(t *testing.T) {
	full := deployment("team-a", "web", 3, map[string]string{"app": "web"})
	full.ResourceVersion = "42"
	compact := FromAPI(full)
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"a": "b"}}}

	tests := []struct {
		name string
		in   any
		want any
	}{
		{name: "deployment", in: full.DeepCopy(), want: compact},
		{name: "already converted (idempotent)", in: FromAPI(full), want: compact},
		{
			name: "tombstone",
			in:   cache.DeletedFinalStateUnknown{Key: "team-a/web", Obj: full.DeepCopy()},
			want: cache.DeletedFinalStateUnknown{Key: "team-a/web", Obj: compact},
		},
		{
			name: "tombstone of a converted object",
			in:   cache.DeletedFinalStateUnknown{Key: "team-a/web", Obj: FromAPI(full)},
			want: cache.DeletedFinalStateUnknown{Key: "team-a/web", Obj: compact},
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

// TestDeploymentIsKeyedLikeTheAPIObject checks what client-go's store
// reads from a cached *Deployment: its key and its resourceVersion.
func TestDeploymentIsKeyedLikeTheAPIObject(t *testing.T) {
	d := &Deployment{Namespace: "team-a", Name: "web", ResourceVersion: "42"}
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(d)
	if err != nil || key != "team-a/web" {
		t.Errorf("store key = %q, %v; want team-a/web", key, err)
	}
	m, err := meta.Accessor(d)
	if err != nil || m.GetResourceVersion() != "42" || m.GetNamespace() != "team-a" || m.GetName() != "web" {
		t.Errorf("meta.Accessor = %v, %v; want team-a/web at 42", m, err)
	}
}

// TestCacheTransform checks what the informer actually stores, and that
// reads answer the same either way.
func TestCacheTransform(t *testing.T) {
	tests := []struct {
		name             string
		disableTransform bool
		wantStoredType   string
	}{
		{name: "transform on", wantStoredType: "*deployments.Deployment"},
		{name: "transform off", disableTransform: true, wantStoredType: "*v1.Deployment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full := deployment("team-a", "web", 3, map[string]string{"app": "web"})
			f := newFixture(t, full)
			c := startCache(t, f, CacheConfig{DisableTransform: tt.disableTransform})

			raw, ok, err := c.informers[0].informer.GetIndexer().GetByKey("team-a/web")
			if err != nil || !ok {
				t.Fatalf("store GetByKey: %v, %v", ok, err)
			}
			if got := reflect.TypeOf(raw).String(); got != tt.wantStoredType {
				t.Errorf("the store holds a %s, want %s", got, tt.wantStoredType)
			}
			got, err := c.Get("team-a", "web")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if want := FromAPI(f.stored("team-a", "web")); !reflect.DeepEqual(got, want) {
				t.Errorf("Get:\n got %#v\nwant %#v", got, want)
			}
			list, err := c.List("", labels.SelectorFromSet(labels.Set{"app": "web"}))
			if err != nil || len(list) != 1 || list[0].Name != "web" {
				t.Errorf("List app=web = %v, %v; want web", names(list), err)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	set := map[string]string{"tier": "front", "app": "web", "empty": ""}
	l := LabelsFromMap(set)
	if want := (Labels{"app", "web", "empty", "", "tier", "front"}); !reflect.DeepEqual(l, want) {
		t.Fatalf("LabelsFromMap = %q, want %q", l, want)
	}
	lookups := []struct {
		name, label, want string
		wantOK            bool
	}{
		{name: "first", label: "app", want: "web", wantOK: true},
		{name: "last", label: "tier", want: "front", wantOK: true},
		{name: "set to empty", label: "empty", want: "", wantOK: true},
		{name: "absent, before all", label: "aaa"},
		{name: "absent, between", label: "b"},
		{name: "absent, after all", label: "zone"},
	}
	for _, tt := range lookups {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := l.Lookup(tt.label)
			if v != tt.want || ok != tt.wantOK || l.Has(tt.label) != tt.wantOK || l.Get(tt.label) != tt.want {
				t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.label, v, ok, tt.want, tt.wantOK)
			}
		})
	}
	selectors := []struct {
		selector string
		want     bool
	}{
		{"app=web", true},
		{"app=web,tier=front", true},
		{"app=web,tier=back", false},
		{"app in (api, web)", true},
		{"!zone", true},
		{"empty", true},
		{"zone", false},
		{"tier notin (front)", false},
	}
	for _, tt := range selectors {
		t.Run("selector "+tt.selector, func(t *testing.T) {
			sel, err := labels.Parse(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			// The same answer as the map the labels came from.
			if got, fromMap := sel.Matches(l), sel.Matches(labels.Set(set)); got != tt.want || fromMap != tt.want {
				t.Errorf("%q matches = %v (map: %v), want %v", tt.selector, got, fromMap, tt.want)
			}
		})
	}
	if got := l.String(); got != "app=web,empty=,tier=front" {
		t.Errorf("String = %q", got)
	}
	if LabelsFromMap(nil) != nil || (Labels(nil)).Has("a") {
		t.Error("empty labels: want nil and nothing set")
	}
}
