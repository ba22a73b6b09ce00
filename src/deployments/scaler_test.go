package deployments

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/replicasd/replicasd/src/deployments/fakecluster"
	"github.com/replicasd/replicasd/src/testkit"
)

// onScaleUpdate returns a reactor for update calls on deployments/scale; the
// fixture's own reactor handles the call when react returns handled=false.
func onScaleUpdate(react func(n int32) (bool, error)) k8stesting.ReactionFunc {
	var calls atomic.Int32
	return func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		handled, err := react(calls.Add(1))
		return handled, nil, err
	}
}

// isScalePermissionError matches a Forbidden passed through as a
// PermissionError of a scale in namespace.
func isScalePermissionError(namespace string) func(error) bool {
	return func(err error) bool {
		var pe *PermissionError
		return apierrors.IsForbidden(err) && errors.As(err, &pe) && pe.Op == OpScale && pe.Namespace == namespace
	}
}

func TestScale(t *testing.T) {
	const ns, name = "team-a", "web"
	// concurrentWrite simulates another writer winning the race on the
	// first update: the Deployment changes and the update conflicts.
	concurrentWrite := func(f *fixture, times int32) k8stesting.ReactionFunc {
		return onScaleUpdate(func(n int32) (bool, error) {
			if n > times {
				return false, nil
			}
			if _, err := f.update(ns, name, func(d *appsv1.Deployment) { d.Labels = map[string]string{"touched": "yes"} }); err != nil {
				return true, err
			}
			return true, fakecluster.Conflict(name)
		})
	}
	current := func(f *fixture) IfMatch {
		return IfMatch{ResourceVersions: []string{f.stored(ns, name).ResourceVersion}}
	}
	// listed puts the current resourceVersion second in a list of strong tags.
	listed := func(f *fixture) IfMatch {
		return IfMatch{ResourceVersions: []string{"17", f.stored(ns, name).ResourceVersion}}
	}
	// weak lists the current resourceVersion as a weak tag only: by strong
	// comparison it does not match.
	weak := func(f *fixture) IfMatch {
		return IfMatch{Weak: []string{`W/"` + f.stored(ns, name).ResourceVersion + `"`}}
	}
	anyVersion := func(*fixture) IfMatch { return IfMatch{Any: true} }

	tests := []struct {
		name          string
		deployment    string
		replicas      int32
		ifMatch       func(f *fixture) IfMatch
		reactor       func(f *fixture) k8stesting.ReactionFunc
		reactorVerb   string           // the verb reactor handles; "" is "update"
		wantErr       error            // kind, for errors of this package
		wantAPIErr    func(error) bool // for passed-through Kubernetes errors
		wantMsg       []string         // substrings of the error
		wantChanged   bool
		wantUpdates   int   // update calls on the scale subresource
		wantConflicts int   // ScaleResult.Conflicts on success
		wantStored    int32 // replicas stored in the API afterwards
		// wantPrevious is ScaleResult.PreviousResourceVersion: "initial"
		// for the resourceVersion the Deployment was created with, "" for
		// none; PreviousReplicas is checked to be 3 whenever it is set.
		wantPrevious string
	}{
		{name: "scales", replicas: 5, wantChanged: true, wantUpdates: 1, wantStored: 5, wantPrevious: "initial"},
		{name: "scales to zero", replicas: 0, wantChanged: true, wantUpdates: 1, wantStored: 0, wantPrevious: "initial"},
		{name: "same count writes nothing", replicas: 3, wantUpdates: 0, wantStored: 3, wantPrevious: "initial"},
		{name: "if-match current", replicas: 5, ifMatch: current, wantChanged: true, wantUpdates: 1, wantStored: 5, wantPrevious: "initial"},
		{name: "if-match current and same count", replicas: 3, ifMatch: current, wantUpdates: 0, wantStored: 3, wantPrevious: "initial"},
		{
			name: "if-match stale", replicas: 5, ifMatch: func(*fixture) IfMatch { return IfMatch{ResourceVersions: []string{"17"}} },
			wantErr: ErrPreconditionFailed, wantMsg: []string{`not "17" from If-Match`}, wantUpdates: 0, wantStored: 3, wantPrevious: "initial",
		},
		{
			name: "if-match list with the current version second", replicas: 5, ifMatch: listed,
			wantChanged: true, wantUpdates: 1, wantStored: 5, wantPrevious: "initial",
		},
		{
			name: "if-match list of stale versions", replicas: 5,
			ifMatch: func(*fixture) IfMatch { return IfMatch{ResourceVersions: []string{"17", "18"}} },
			wantErr: ErrPreconditionFailed, wantMsg: []string{`not "17", "18" from If-Match`}, wantUpdates: 0, wantStored: 3, wantPrevious: "initial",
		},
		{
			name: "if-match weak tag of the current version never matches", replicas: 5, ifMatch: weak,
			wantErr: ErrPreconditionFailed, wantMsg: []string{`W/"`, "weak entity tags never match"}, wantUpdates: 0, wantStored: 3, wantPrevious: "initial",
		},
		{
			name: "if-match star on an existing deployment writes", replicas: 5, ifMatch: anyVersion,
			wantChanged: true, wantUpdates: 1, wantStored: 5, wantPrevious: "initial",
		},
		{
			name: "if-match star on a missing deployment is not found", deployment: "missing", replicas: 5, ifMatch: anyVersion,
			wantErr: ErrNotFound, wantMsg: []string{`deployment "missing" not found`}, wantUpdates: 0, wantStored: 3,
		},
		{
			name: "conflict with if-match star is retried", replicas: 5, ifMatch: anyVersion,
			reactor:     func(f *fixture) k8stesting.ReactionFunc { return concurrentWrite(f, 1) },
			wantChanged: true, wantUpdates: 2, wantConflicts: 1, wantStored: 5, wantPrevious: "concurrent",
		},
		{
			name: "conflict is retried", replicas: 5, reactor: func(f *fixture) k8stesting.ReactionFunc { return concurrentWrite(f, 1) },
			wantChanged: true, wantUpdates: 2, wantConflicts: 1, wantStored: 5, wantPrevious: "concurrent",
		},
		{
			name: "conflict with if-match is a precondition failure", replicas: 5, ifMatch: current,
			reactor: func(f *fixture) k8stesting.ReactionFunc { return concurrentWrite(f, 1) },
			wantErr: ErrPreconditionFailed, wantMsg: []string{"was modified after resourceVersion"}, wantUpdates: 1, wantStored: 3, wantPrevious: "initial",
		},
		{
			name: "conflict with an if-match list is a precondition failure", replicas: 5, ifMatch: listed,
			reactor: func(f *fixture) k8stesting.ReactionFunc { return concurrentWrite(f, 1) },
			wantErr: ErrPreconditionFailed, wantMsg: []string{"was modified after resourceVersion"}, wantUpdates: 1, wantStored: 3, wantPrevious: "initial",
		},
		{
			name: "conflicts until the retries run out", replicas: 5,
			reactor:    func(f *fixture) k8stesting.ReactionFunc { return concurrentWrite(f, 1000) },
			wantAPIErr: apierrors.IsConflict, wantMsg: []string{"still conflicting after 5 attempts"}, wantUpdates: 5, wantStored: 3,
			wantPrevious: "concurrent",
		},
		{
			name: "not found", deployment: "missing", replicas: 5,
			wantErr: ErrNotFound, wantMsg: []string{`deployment "missing" not found in namespace "team-a"`}, wantUpdates: 0, wantStored: 3,
		},
		{
			name: "forbidden passes through", replicas: 5,
			reactor: func(*fixture) k8stesting.ReactionFunc {
				return onScaleUpdate(func(int32) (bool, error) {
					return true, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments/scale"}, name,
						errors.New(`User "system:serviceaccount:ops:replicasd" cannot update resource "deployments/scale" in API group "apps" in the namespace "team-a"`))
				})
			},
			wantAPIErr:  isScalePermissionError("team-a"),
			wantMsg:     []string{`update deployments.apps/scale "web" in namespace "team-a": `, `cannot update resource "deployments/scale"`},
			wantUpdates: 1, wantStored: 3, wantPrevious: "initial",
		},
		{
			name: "forbidden get names the operation", replicas: 5,
			reactor: func(*fixture) k8stesting.ReactionFunc {
				return func(a k8stesting.Action) (bool, runtime.Object, error) {
					return a.GetSubresource() == "scale", nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments/scale"}, name,
						errors.New(`User "system:serviceaccount:ops:replicasd" cannot get resource "deployments/scale" in API group "apps" in the namespace "team-a"`))
				}
			},
			reactorVerb: "get",
			wantAPIErr:  isScalePermissionError("team-a"),
			wantMsg:     []string{`get deployments.apps/scale "web" in namespace "team-a": `, `cannot get resource "deployments/scale"`},
			wantUpdates: 0, wantStored: 3,
		},
		{
			name: "server error passes through", replicas: 5,
			reactor: func(*fixture) k8stesting.ReactionFunc {
				return onScaleUpdate(func(int32) (bool, error) { return true, apierrors.NewInternalError(errors.New("etcd timeout")) })
			},
			wantAPIErr: apierrors.IsInternalError, wantMsg: []string{"etcd timeout"}, wantUpdates: 1, wantStored: 3, wantPrevious: "initial",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, deployment(ns, name, 3, nil))
			if tt.reactor != nil {
				f.client.PrependReactor(cmp.Or(tt.reactorVerb, "update"), "deployments", tt.reactor(f))
			}
			c := startCache(t, f, CacheConfig{})
			s := NewScaler(f.client, c, ScalerConfig{}, testkit.TestLogger(t))
			var ifMatch IfMatch
			if tt.ifMatch != nil {
				ifMatch = tt.ifMatch(f)
			}
			target := name
			if tt.deployment != "" {
				target = tt.deployment
			}

			initialRV := f.stored(ns, name).ResourceVersion

			res, err := s.Scale(context.Background(), ns, target, tt.replicas, ifMatch)

			switch prev := res.PreviousResourceVersion; {
			case tt.wantPrevious == "initial" && prev != initialRV,
				tt.wantPrevious == "concurrent" && (prev == "" || prev == initialRV),
				tt.wantPrevious == "" && prev != "":
				t.Errorf("PreviousResourceVersion = %q, want %s (initial %q)", prev, cmp.Or(tt.wantPrevious, "none"), initialRV)
			case prev != "" && res.PreviousReplicas != 3:
				t.Errorf("PreviousReplicas = %d, want 3", res.PreviousReplicas)
			}

			if got := f.scaleUpdates(); got != tt.wantUpdates {
				t.Errorf("update calls on deployments/scale = %d, want %d", got, tt.wantUpdates)
			}
			if got := specReplicas(f.stored(ns, name)); got != tt.wantStored {
				t.Errorf("stored replicas = %d, want %d", got, tt.wantStored)
			}
			for _, want := range tt.wantMsg {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v does not contain %q", err, want)
				}
			}
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Scale error = %v, want kind %v", err, tt.wantErr)
				}
				return
			case tt.wantAPIErr != nil:
				if err == nil || !tt.wantAPIErr(err) {
					t.Fatalf("Scale error = %v, want it to pass the API error through", err)
				}
				return
			case err != nil:
				t.Fatalf("Scale: %v", err)
			}

			stored := f.stored(ns, name)
			if res.Changed != tt.wantChanged || res.Replicas != tt.replicas || res.Conflicts != tt.wantConflicts ||
				res.Namespace != ns || res.Name != name || res.ResourceVersion != stored.ResourceVersion {
				t.Errorf("ScaleResult = %+v; want changed=%v replicas=%d conflicts=%d resourceVersion=%s",
					res, tt.wantChanged, tt.replicas, tt.wantConflicts, stored.ResourceVersion)
			}
			if res.ReadYourWritesTimedOut {
				t.Error("ScaleResult.ReadYourWritesTimedOut is set, but the cache showed the write")
			}
			if res.Deployment == nil || res.Deployment.Replicas != tt.replicas {
				t.Errorf("ScaleResult.Deployment = %v, want the cached object with %d replicas", res.Deployment, tt.replicas)
			}
			// Read-your-writes: the cache shows the count as soon as Scale returns.
			d, err := c.Get(ns, name)
			if err != nil {
				t.Fatalf("Get right after Scale: %v", err)
			}
			if d.Replicas != tt.replicas || d.ResourceVersion != stored.ResourceVersion {
				t.Errorf("Get right after Scale: %d replicas at resourceVersion %s; want %d at %s",
					d.Replicas, d.ResourceVersion, tt.replicas, stored.ResourceVersion)
			}
		})
	}
}

// stubCache is a ScaleCache whose answers the test sets.
type stubCache struct {
	synced  bool
	watches bool
	// wait answers WaitForDeployment; unset, it blocks until ctx ends.
	wait func(ctx context.Context, rv string) (*Deployment, error)
}

func (s *stubCache) HasSynced() bool     { return s.synced }
func (s *stubCache) Watches(string) bool { return s.watches }
func (s *stubCache) WaitForDeployment(ctx context.Context, _, _, rv string) (*Deployment, error) {
	if s.wait != nil {
		return s.wait(ctx, rv)
	}
	<-ctx.Done()
	return nil, ResourceVersionTimeout(rv, 0, 0)
}

func TestScaleWithoutAPICalls(t *testing.T) {
	tests := []struct {
		name    string
		cache   *stubCache
		wantErr error
	}{
		{name: "namespace not watched", cache: &stubCache{synced: true, watches: false}, wantErr: ErrNotFound},
		{name: "cache not synced", cache: &stubCache{synced: false, watches: true}, wantErr: ErrNotSynced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, deployment("team-a", "web", 3, nil))
			s := NewScaler(f.client, tt.cache, ScalerConfig{}, testkit.TestLogger(t))
			if _, err := s.Scale(context.Background(), "team-a", "web", 5, IfMatch{}); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Scale error = %v, want kind %v", err, tt.wantErr)
			}
			if n := len(f.client.Actions()); n != 0 {
				t.Errorf("%d Kubernetes API calls, want none: %v", n, f.client.Actions())
			}
		})
	}
}

func TestScaleNamespaceNotWatchedByCache(t *testing.T) {
	f := newFixture(t, deployment("other", "web", 3, nil))
	c := startCache(t, f, CacheConfig{Namespaces: []string{"team-a"}})
	s := NewScaler(f.client, c, ScalerConfig{}, testkit.TestLogger(t))
	_, err := s.Scale(context.Background(), "other", "web", 5, IfMatch{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `namespace "other" is not watched`) {
		t.Fatalf("Scale error = %v, want namespace not watched", err)
	}
	if n := f.scaleCalls(); n != 0 {
		t.Errorf("%d calls on deployments/scale, want none", n)
	}
}

// TestScaleReadYourWritesTimeout: the write happened, so Scale succeeds
// even when the cache does not show it in time, and says so in the log.
func TestScaleReadYourWritesTimeout(t *testing.T) {
	f := newFixture(t, deployment("team-a", "web", 3, nil))
	var logs testkit.Buffer
	s := NewScaler(f.client, &stubCache{synced: true, watches: true},
		ScalerConfig{ReadYourWritesTimeout: shortWait}, testkit.TextLogger(&logs, slog.LevelDebug))

	res, err := s.Scale(context.Background(), "team-a", "web", 5, IfMatch{})
	if err != nil {
		t.Fatalf("Scale: %v", err)
	}
	if !res.Changed || res.Deployment != nil || res.ReadYourWritesWait < shortWait || !res.ReadYourWritesTimedOut {
		t.Errorf("ScaleResult = %+v; want changed, no deployment, waited at least %s, timed out", res, shortWait)
	}
	if got := specReplicas(f.stored("team-a", "web")); got != 5 {
		t.Errorf("stored replicas = %d, want 5", got)
	}
	for _, want := range []string{"level=WARN", "did not show it in time", "namespace=team-a", "name=web", "resourceVersion=" + res.ResourceVersion} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not contain %q:\n%s", want, logs.String())
		}
	}
}

// TestScaleWaitsForTheResultingVersion: Scale waits for the version its
// write produced, and after a no-op for the version it read from the API
// (the cache may not have caught up with it yet).
func TestScaleWaitsForTheResultingVersion(t *testing.T) {
	tests := []struct {
		name        string
		replicas    int32
		wantChanged bool
	}{
		{name: "after a write", replicas: 5, wantChanged: true},
		{name: "after a no-op", replicas: 3, wantChanged: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, deployment("team-a", "web", 3, nil))
			var asked string
			cache := &stubCache{synced: true, watches: true, wait: func(_ context.Context, rv string) (*Deployment, error) {
				asked = rv
				return FromAPI(f.stored("team-a", "web")), nil
			}}
			s := NewScaler(f.client, cache, ScalerConfig{}, testkit.TestLogger(t))
			res, err := s.Scale(context.Background(), "team-a", "web", tt.replicas, IfMatch{})
			if err != nil {
				t.Fatalf("Scale: %v", err)
			}
			want := f.stored("team-a", "web").ResourceVersion
			if res.Changed != tt.wantChanged || asked != want || res.Deployment == nil || res.Deployment.ResourceVersion != want {
				t.Errorf("Scale waited for resourceVersion %q and returned %+v; want a wait for %s, changed=%v",
					asked, res, want, tt.wantChanged)
			}
		})
	}
}
