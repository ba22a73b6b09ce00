package deployments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/replicasd/replicasd/src/testkit"
)

func TestCacheEvents(t *testing.T) {
	tests := []struct {
		name         string
		act          func(f *fixture)
		wantErr      error // kind expected from Get, nil for success
		wantReplicas int32
	}{
		{
			name:         "add",
			act:          func(f *fixture) { f.create(deployment("team-a", "api", 4, nil)) },
			wantReplicas: 4,
		},
		{
			name: "update",
			act: func(f *fixture) {
				f.mustUpdate("team-a", "api", func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(9)) })
			},
			wantReplicas: 9,
		},
		{
			name:    "delete",
			act:     func(f *fixture) { f.remove("team-a", "api") },
			wantErr: ErrNotFound,
		},
	}
	// One cache sees the events in order: add, then update, then delete.
	f := newFixture(t)
	c := startCache(t, f, CacheConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.act(f)
			testkit.Eventually(t, waitTimeout, "the cache sees the event", func() error {
				d, err := c.Get("team-a", "api")
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						return fmt.Errorf("Get error = %v, want kind %v", err, tt.wantErr)
					}
					return nil
				}
				if err != nil {
					return fmt.Errorf("Get: %w", err)
				}
				if got := d.Replicas; got != tt.wantReplicas {
					return fmt.Errorf("replicas = %d, want %d", got, tt.wantReplicas)
				}
				list, err := c.List("team-a", nil)
				if err != nil || len(list) != 1 || list[0].Replicas != tt.wantReplicas {
					return fmt.Errorf("List = %v, %v; want the one deployment with %d replicas", names(list), err, tt.wantReplicas)
				}
				return nil
			})
		})
	}
}

func names(list []*Deployment) []string {
	out := make([]string, len(list))
	for i, d := range list {
		out[i] = d.Namespace + "/" + d.Name
	}
	return out
}

func TestCacheList(t *testing.T) {
	f := newFixture(t,
		deployment("b", "zeta", 1, map[string]string{"tier": "web"}),
		deployment("a", "web", 2, map[string]string{"tier": "web", "team": "x"}),
		deployment("b", "alpha", 3, map[string]string{"tier": "db"}),
		deployment("a", "db", 4, map[string]string{"tier": "db"}),
		deployment("c", "other", 5, nil),
	)
	all := startCache(t, f, CacheConfig{})
	some := startCache(t, f, CacheConfig{Namespaces: []string{"b", "a"}})

	tests := []struct {
		name      string
		cache     *Cache
		namespace string
		selector  string
		want      []string
		wantErr   error
	}{
		{name: "all namespaces, sorted", cache: all, want: []string{"a/db", "a/web", "b/alpha", "b/zeta", "c/other"}},
		{name: "one namespace", cache: all, namespace: "b", want: []string{"b/alpha", "b/zeta"}},
		{name: "selector", cache: all, selector: "tier=web", want: []string{"a/web", "b/zeta"}},
		{name: "selector and namespace", cache: all, namespace: "a", selector: "tier in (web),team", want: []string{"a/web"}},
		{name: "selector matching nothing is an empty list", cache: all, selector: "tier=cache", want: []string{}},
		{name: "namespace without deployments is an empty list", cache: all, namespace: "empty", want: []string{}},
		{name: "watched namespaces only", cache: some, want: []string{"a/db", "a/web", "b/alpha", "b/zeta"}},
		{name: "one watched namespace", cache: some, namespace: "a", selector: "tier=db", want: []string{"a/db"}},
		{name: "unwatched namespace", cache: some, namespace: "c", wantErr: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			selector, err := labels.Parse(tt.selector)
			if err != nil {
				t.Fatalf("labels.Parse: %v", err)
			}
			got, err := tt.cache.List(tt.namespace, selector)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("List error = %v, want kind %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if got == nil {
				t.Fatal("List returned nil, want a non-nil slice")
			}
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("List = %v, want %v", names(got), tt.want)
			}
		})
	}
}

func TestCacheGetErrors(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 2, nil), deployment("c", "web", 2, nil))
	some := startCache(t, f, CacheConfig{Namespaces: []string{"a", "b"}})
	notStarted, err := NewCache(f.client, CacheConfig{}, testkit.TestLogger(t))
	if err != nil {
		t.Fatalf("NewCache: %v", err)
	}

	tests := []struct {
		name            string
		cache           *Cache
		namespace, dep  string
		wantErr         error
		wantMsgContains string
	}{
		{name: "found", cache: some, namespace: "a", dep: "web"},
		{name: "absent", cache: some, namespace: "b", dep: "web", wantErr: ErrNotFound, wantMsgContains: `deployment "web" not found in namespace "b"`},
		{name: "namespace not watched", cache: some, namespace: "c", dep: "web", wantErr: ErrNotFound, wantMsgContains: `namespace "c" is not watched`},
		{name: "not synced", cache: notStarted, namespace: "a", dep: "web", wantErr: ErrNotSynced, wantMsgContains: "not synced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.cache.Get(tt.namespace, tt.dep)
			if tt.wantErr == nil {
				if err != nil || d.Name != tt.dep || d.Namespace != tt.namespace {
					t.Fatalf("Get = %v, %v; want %s/%s", d, err, tt.namespace, tt.dep)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Get error = %v, want kind %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsgContains) {
				t.Errorf("Get error %q does not contain %q", err, tt.wantMsgContains)
			}
		})
	}

	t.Run("not synced list", func(t *testing.T) {
		if _, err := notStarted.List("", nil); !errors.Is(err, ErrNotSynced) {
			t.Fatalf("List error = %v, want kind ErrNotSynced", err)
		}
		if notStarted.HasSynced() {
			t.Error("HasSynced = true before Start")
		}
	})
}

func TestCacheNamespaces(t *testing.T) {
	tests := []struct {
		name           string
		namespaces     []string
		wantNamespaces []string
		watched        []string
		unwatched      []string
		wantErr        string
	}{
		{name: "all namespaces", namespaces: nil, wantNamespaces: nil, watched: []string{"a", "anything", ""}},
		{name: "sorted and deduplicated", namespaces: []string{"b", "a", "b"}, wantNamespaces: []string{"a", "b"}, watched: []string{"a", "b"}, unwatched: []string{"c", ""}},
		{name: "invalid name", namespaces: []string{"a", "Not_Valid"}, wantErr: `namespace "Not_Valid"`},
		{name: "empty name", namespaces: []string{""}, wantErr: `namespace ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c, err := NewCache(f.client, CacheConfig{Namespaces: tt.namespaces}, testkit.TestLogger(t))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewCache error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewCache: %v", err)
			}
			if got := c.Namespaces(); !slices.Equal(got, tt.wantNamespaces) {
				t.Errorf("Namespaces = %q, want %q", got, tt.wantNamespaces)
			}
			for _, ns := range tt.watched {
				if !c.Watches(ns) {
					t.Errorf("Watches(%q) = false, want true", ns)
				}
			}
			for _, ns := range tt.unwatched {
				if c.Watches(ns) {
					t.Errorf("Watches(%q) = true, want false", ns)
				}
			}
		})
	}
}

// TestCacheListsOnlyConfiguredNamespaces checks the API calls, not just the
// answers: with --namespace, replicasd must not need cluster-wide RBAC.
func TestCacheListsOnlyConfiguredNamespaces(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 1, nil), deployment("c", "web", 1, nil))
	startCache(t, f, CacheConfig{Namespaces: []string{"b", "a"}})

	callsIn := func(verb string) []string {
		var namespaces []string
		for _, a := range f.client.Actions() {
			if a.GetVerb() == verb && a.GetResource() == deploymentsGVR && !slices.Contains(namespaces, a.GetNamespace()) {
				namespaces = append(namespaces, a.GetNamespace())
			}
		}
		slices.Sort(namespaces)
		return namespaces
	}
	want := []string{"a", "b"}
	if got := callsIn("list"); !slices.Equal(got, want) {
		t.Errorf("list calls in namespaces %q, want exactly %q", got, want)
	}
	// The watches start right after the lists, so they may still be coming.
	testkit.Eventually(t, waitTimeout, "the watches start", func() error {
		if got := callsIn("watch"); !slices.Equal(got, want) {
			return fmt.Errorf("watch calls in namespaces %q, want exactly %q", got, want)
		}
		return nil
	})
}

func forbidden(verb string, namespace string) error {
	return apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "",
		fmt.Errorf("User \"system:serviceaccount:ops:replicasd\" cannot %s resource \"deployments\" in API group \"apps\" in the namespace %q", verb, namespace))
}

func TestCacheStartFailsWithMissingPermission(t *testing.T) {
	f := newFixture(t)
	f.client.PrependReactor("list", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, forbidden("list", a.GetNamespace())
	})
	var observed atomic.Int32
	c, err := NewCache(f.client, CacheConfig{
		Namespaces:  []string{"team-a"},
		SyncTimeout: 300 * time.Millisecond,
		Observer:    Observer{OnWatchError: func(string, error) { observed.Add(1) }},
	}, testkit.TestLogger(t))
	if err != nil {
		t.Fatalf("NewCache: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	err = c.Start(ctx)
	if err == nil {
		t.Fatal("Start succeeded, want a sync timeout")
	}
	for _, want := range []string{
		"did not sync within 300ms",
		`replicasd lacks RBAC permission to list deployments.apps in namespace "team-a"`,
		"cannot list resource",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error %q does not contain %q", err, want)
		}
	}
	if !apierrors.IsForbidden(err) {
		t.Errorf("apierrors.IsForbidden(%v) = false, want true", err)
	}
	var werr *WatchError
	if !errors.As(err, &werr) || werr.Namespace != "team-a" || werr.Verb != "list" {
		t.Errorf("Start error %v: want a *WatchError for list in team-a, got %#v", err, werr)
	}
	if at, last := c.LastWatchError(); last == nil || at.IsZero() {
		t.Errorf("LastWatchError = %v, %v; want the forbidden error and its time", last, at)
	}
	if observed.Load() == 0 {
		t.Error("Observer.OnWatchError was not called")
	}
	if c.HasSynced() {
		t.Error("HasSynced = true, want false")
	}
	if err := c.Start(ctx); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Errorf("second Start error = %v, want already started", err)
	}
}

func TestCacheWatchErrorClearsOnRecovery(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 1, nil))
	var failures atomic.Int32
	failed := make(chan struct{})
	f.client.PrependReactor("list", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if failures.Add(1) == 1 {
			close(failed)
			return true, nil, apierrors.NewServiceUnavailable("etcd is down")
		}
		return false, nil, nil
	})
	c, err := NewCache(f.client, CacheConfig{}, testkit.TestLogger(t))
	if err != nil {
		t.Fatalf("NewCache: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan error, 1)
	go func() { started <- c.Start(ctx) }()

	receive(t, failed)
	testkit.Eventually(t, waitTimeout, "the watch error is recorded", func() error {
		if _, err := c.LastWatchError(); !apierrors.IsServiceUnavailable(err) {
			return fmt.Errorf("LastWatchError = %v, want the 503", err)
		}
		return nil
	})
	// The reflector retries after its backoff (about a second); the
	// successful list must clear the error.
	if err := receive(t, started); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if at, err := c.LastWatchError(); err != nil || !at.IsZero() {
		t.Errorf("LastWatchError after recovery = %v, %v; want nil", err, at)
	}
	if _, err := c.Get("a", "web"); err != nil {
		t.Errorf("Get after recovery: %v", err)
	}
}

func TestWatchErrorLoggingIsRateLimited(t *testing.T) {
	var buf testkit.Buffer
	f := newFixture(t)
	c, err := NewCache(f.client, CacheConfig{Namespaces: []string{"a", "b"}}, testkit.TextLogger(&buf, slog.LevelDebug))
	if err != nil {
		t.Fatalf("NewCache: %v", err)
	}
	a, b := c.byNamespace["a"], c.byNamespace["b"]
	for range 5 {
		c.recordWatchError(a, &WatchError{Namespace: "a", Verb: "watch", Err: errors.New("connection refused")})
	}
	c.recordWatchError(b, &WatchError{Namespace: "b", Verb: "list", Err: forbidden("list", "b")})

	logs := buf.String()
	if n := strings.Count(logs, `namespace=a`); n != 1 {
		t.Errorf("namespace a logged %d times, want 1 (rate-limited):\n%s", n, logs)
	}
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, `lacks RBAC permission to list deployments.apps in namespace \"b\"`) {
		t.Errorf("forbidden error not logged at ERROR naming the permission:\n%s", logs)
	}
	if _, err := c.LastWatchError(); !apierrors.IsForbidden(err) {
		t.Errorf("LastWatchError = %v, want the latest (forbidden) error", err)
	}
}
