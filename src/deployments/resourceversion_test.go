package deployments

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/replicasd/replicasd/src/testkit"
)

// shortWait is the bound for waits that are expected to time out.
const shortWait = 50 * time.Millisecond

func TestWaitForResourceVersion(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 1, nil))
	c := startCache(t, f, CacheConfig{})
	reached := f.stored("a", "web").ResourceVersion
	// The API moves on without a Deployment changing: the cache hears
	// nothing of it, so a wait for it runs out of time.
	ahead := f.skip(1000)
	beyond := strconv.FormatInt(f.client.ResourceVersion()+1_000_000, 10)

	tests := []struct {
		name    string
		rv      string
		wait    time.Duration // shortWait when zero
		wantErr error
		wantMsg []string
	}{
		{name: "already reached", rv: reached},
		{name: "older", rv: "1"},
		{name: "zero", rv: "0"},
		{name: "not reached in time", rv: ahead, wantErr: ErrResourceVersionTimeout,
			wantMsg: []string{"resourceVersion " + ahead, "it has reached " + reached}},
		// Ahead of the API itself: answered at once, not after the wait
		// (which is long here, so that only the fix can pass).
		{name: "ahead of the Kubernetes API", rv: beyond, wait: 10 * time.Second, wantErr: ErrResourceVersionTooLarge,
			wantMsg: []string{"Too large resource version: " + beyond + ", current: " + ahead}},
		{name: "not a number", rv: "abc", wantErr: ErrInvalid, wantMsg: []string{`"abc"`}},
		{name: "negative", rv: "-1", wantErr: ErrInvalid},
		{name: "fraction", rv: "1.5", wantErr: ErrInvalid},
		{name: "empty", rv: "", wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait := tt.wait
			if wait == 0 {
				wait = shortWait
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			err := c.WaitForResourceVersion(ctx, tt.rv)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("WaitForResourceVersion(%q) = %v, want kind %v", tt.rv, err, tt.wantErr)
			}
			for _, want := range tt.wantMsg {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestWaitForResourceVersionWakesOnEvent(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 1, nil))
	c := startCache(t, f, CacheConfig{})
	// The Kubernetes API has moved past the cache (a change the cache does
	// not watch), so next is not "too large"; the cache reaches it only
	// with the update below.
	next := f.skip(1)

	done := make(chan error, 1)
	waiting := make(chan struct{})
	go func() {
		close(waiting)
		done <- c.WaitForResourceVersion(context.Background(), next)
	}()
	receive(t, waiting)
	select {
	case err := <-done:
		t.Fatalf("WaitForResourceVersion(%s) returned %v before the cache reached it", next, err)
	default:
	}
	if rv := f.mustUpdate("a", "web", func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(2)) }); rv == next || len(rv) < len(next) || (len(rv) == len(next) && rv < next) {
		t.Fatalf("fixture wrote resourceVersion %s, want one after %s", rv, next)
	}
	if err := receive(t, done); err != nil {
		t.Fatalf("WaitForResourceVersion: %v", err)
	}
	// Having waited, a read sees the change.
	if d, err := c.Get("a", "web"); err != nil || d.Replicas != 2 {
		t.Errorf("Get after wait = %v, %v; want 2 replicas", d, err)
	}
}

func TestWaitForResourceVersionNotSynced(t *testing.T) {
	f := newFixture(t)
	c, err := NewCache(f.client, CacheConfig{}, testkit.TestLogger(t))
	if err != nil {
		t.Fatalf("NewCache: %v", err)
	}
	if err := c.WaitForResourceVersion(context.Background(), "1"); !errors.Is(err, ErrNotSynced) {
		t.Errorf("WaitForResourceVersion before sync = %v, want kind ErrNotSynced", err)
	}
}

// TestWaitAsksTheAPIOnlyWhenAheadOfTheCache: a resourceVersion the cache
// has reached costs no Kubernetes API call.
func TestWaitAsksTheAPIOnlyWhenAheadOfTheCache(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 1, nil))
	c := startCache(t, f, CacheConfig{})
	reached := f.stored("a", "web").ResourceVersion
	before := f.lists()
	for range 10 {
		if err := c.WaitForResourceVersion(context.Background(), reached); err != nil {
			t.Fatalf("WaitForResourceVersion(%s): %v", reached, err)
		}
	}
	if n := f.lists() - before; n != 0 {
		t.Errorf("%d list calls for a resourceVersion the cache has, want none", n)
	}
}

// TestWaitWithoutTheAPIsAnswer: when the API cannot say how far it is, a
// resourceVersion ahead of the cache is waited for as before, and the wait
// ends at its deadline as ErrResourceVersionTimeout.
func TestWaitWithoutTheAPIsAnswer(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 1, nil))
	c := startCache(t, f, CacheConfig{})
	f.client.PrependReactor("list", "deployments", func(action k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	beyond := strconv.FormatInt(f.client.ResourceVersion()+1_000_000, 10)
	ctx, cancel := context.WithTimeout(context.Background(), shortWait)
	defer cancel()
	if err := c.WaitForResourceVersion(ctx, beyond); !errors.Is(err, ErrResourceVersionTimeout) {
		t.Errorf("WaitForResourceVersion(%s) while the API cannot be listed = %v, want kind ErrResourceVersionTimeout", beyond, err)
	}
}

// TestWaitForNamespaceResourceVersion: with one informer per namespace, a
// change in one namespace does not move the others; a quiet namespace whose
// store holds what the API lists is caught up all the same.
func TestWaitForNamespaceResourceVersion(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 1, nil), deployment("b", "web", 1, nil))
	c := startCache(t, f, CacheConfig{Namespaces: []string{"a", "b"}})
	rv := f.mustUpdate("a", "web", func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(3)) })

	tests := []struct {
		name      string
		namespace string
		wantErr   error
	}{
		{name: "namespace of the change", namespace: "a"},
		{name: "quiet namespace is caught up without an event", namespace: "b"},
		{name: "all namespaces, the quiet one included", namespace: ""},
		{name: "unwatched namespace", namespace: "c", wantErr: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), shortWait)
			defer cancel()
			if tt.wantErr == nil {
				// The change may still be on its way: give it time.
				ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
			}
			err := c.WaitForNamespaceResourceVersion(ctx, tt.namespace, rv)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("WaitForNamespaceResourceVersion(%q, %s) = %v, want kind %v", tt.namespace, rv, err, tt.wantErr)
			}
		})
	}
}

func TestWaitForDeployment(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 1, nil), deployment("a", "gone", 1, nil))
	c := startCache(t, f, CacheConfig{})
	webRV := f.mustUpdate("a", "web", func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(5)) })
	goneRV := f.stored("a", "gone").ResourceVersion
	f.remove("a", "gone")
	// Once a later change is in the cache, the deletion before it is too.
	laterRV := f.mustUpdate("a", "web", func(d *appsv1.Deployment) { d.Labels = map[string]string{"v": "2"} })
	ahead := strconv.FormatInt(f.client.ResourceVersion()+1000, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitForResourceVersion(ctx, laterRV); err != nil {
		t.Fatalf("WaitForResourceVersion: %v", err)
	}

	tests := []struct {
		name, dep, rv string
		timeout       time.Duration
		wantReplicas  int32
		wantErr       error
	}{
		{name: "reaches the written version", dep: "web", rv: webRV, timeout: 10 * time.Second, wantReplicas: 5},
		{name: "deleted after the version", dep: "gone", rv: goneRV, timeout: 10 * time.Second, wantErr: ErrNotFound},
		{name: "absent once the cache is past the version", dep: "never", rv: laterRV, timeout: 10 * time.Second, wantErr: ErrNotFound},
		{name: "version never reached", dep: "web", rv: ahead, timeout: shortWait, wantErr: ErrResourceVersionTimeout},
		{name: "invalid version", dep: "web", rv: "x", timeout: shortWait, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			d, err := c.WaitForDeployment(ctx, "a", tt.dep, tt.rv)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("WaitForDeployment = %v, %v; want kind %v", d, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("WaitForDeployment: %v", err)
			}
			if d.Replicas != tt.wantReplicas {
				t.Errorf("replicas = %d, want %d", d.Replicas, tt.wantReplicas)
			}
		})
	}
}

func TestCacheResourceVersion(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 1, nil))
	c := startCache(t, f, CacheConfig{})
	rv := f.mustUpdate("a", "web", func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(2)) })
	testkit.Eventually(t, waitTimeout, "the cache reaches the written version", func() error {
		if got := c.ResourceVersion(); got != rv {
			return errors.New("ResourceVersion = " + got + ", want " + rv)
		}
		return nil
	})
}

// TestStoreHolds: a namespace's store counts as caught up with an API list
// only when it has every listed object at that version or newer, and
// nothing the list lacks unless it is newer than the list.
func TestStoreHolds(t *testing.T) {
	f := newFixture(t, deployment("b", "web", 1, nil))
	c := startCache(t, f, CacheConfig{Namespaces: []string{"a", "b"}})
	ni := c.byNamespace["b"]
	web := f.stored("b", "web").DeepCopy()
	have, _ := strconv.ParseUint(web.ResourceVersion, 10, 64)
	at := func(rv uint64) *appsv1.Deployment {
		d := web.DeepCopy()
		d.ResourceVersion = strconv.FormatUint(rv, 10)
		return d
	}
	other := at(have)
	other.Name = "other"

	tests := []struct {
		name  string
		items []*appsv1.Deployment
		at    uint64
		want  bool
	}{
		{name: "same objects, same versions", items: []*appsv1.Deployment{at(have)}, at: have + 10, want: true},
		{name: "the store's object is newer", items: []*appsv1.Deployment{at(have - 1)}, at: have + 10, want: true},
		{name: "the store's object is older", items: []*appsv1.Deployment{at(have + 1)}, at: have + 10},
		{name: "the store misses an object", items: []*appsv1.Deployment{at(have), other}, at: have + 10},
		{name: "the store keeps a deleted object", at: have + 10},
		{name: "the store's extra object is newer than the list", at: have - 1, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items := make([]appsv1.Deployment, 0, len(tt.items))
			for _, d := range tt.items {
				items = append(items, *d)
			}
			if got := ni.holds(items, tt.at); got != tt.want {
				t.Errorf("holds = %v, want %v", got, tt.want)
			}
		})
	}
}
