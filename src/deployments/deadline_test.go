package deployments

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"

	"github.com/replicasd/replicasd/src/testkit"
)

// faultyClient is the fixture's fake clientset with a fault on the scale
// subresource. The fake's reactors never see a context, so the fault sits
// one level up, where the context is: a call that "hangs" blocks until its
// context is done and then fails as client-go's REST client does.
type faultyClient struct {
	*fake.Clientset
	fault func(ctx context.Context, verb string, call func() error) error
}

func (c faultyClient) AppsV1() appsv1client.AppsV1Interface {
	return faultyApps{AppsV1Interface: c.Clientset.AppsV1(), fault: c.fault}
}

type faultyApps struct {
	appsv1client.AppsV1Interface
	fault func(ctx context.Context, verb string, call func() error) error
}

func (a faultyApps) Deployments(namespace string) appsv1client.DeploymentInterface {
	return faultyDeployments{DeploymentInterface: a.AppsV1Interface.Deployments(namespace), fault: a.fault}
}

type faultyDeployments struct {
	appsv1client.DeploymentInterface
	fault func(ctx context.Context, verb string, call func() error) error
}

func (d faultyDeployments) GetScale(ctx context.Context, name string, opts metav1.GetOptions) (*autoscalingv1.Scale, error) {
	var scale *autoscalingv1.Scale
	err := d.fault(ctx, "get", func() (err error) { scale, err = d.DeploymentInterface.GetScale(ctx, name, opts); return err })
	return scale, err
}

func (d faultyDeployments) UpdateScale(ctx context.Context, name string, s *autoscalingv1.Scale, opts metav1.UpdateOptions) (*autoscalingv1.Scale, error) {
	var scale *autoscalingv1.Scale
	err := d.fault(ctx, "update", func() (err error) { scale, err = d.DeploymentInterface.UpdateScale(ctx, name, s, opts); return err })
	return scale, err
}

// hangUntilDone is what client-go returns when a call's context ends
// before the API server answered.
func hangUntilDone(ctx context.Context) error {
	<-ctx.Done()
	return &url.Error{Op: "Put", URL: "https://kube-apiserver.internal:6443/apis/apps/v1/...", Err: ctx.Err()}
}

// TestScaleKubeAPIDeadline: every Kubernetes call of a Scale is bounded by
// KubeAPITimeout, and a call that gets no answer (a hang or a broken
// connection) ends in ErrKubeAPIUnavailable whose message says whether the
// write may have been applied.
func TestScaleKubeAPIDeadline(t *testing.T) {
	const ns, name = "team-a", "web"
	reset := &url.Error{Op: "Put", URL: "https://kube-apiserver.internal:6443/apis/apps/v1/...", Err: syscall.ECONNRESET}
	tests := []struct {
		name       string
		fault      func(ctx context.Context, verb string, call func() error) error
		wantMsg    []string
		wantCause  error
		wantStored int32
	}{
		{
			name: "get hangs: nothing written",
			fault: func(ctx context.Context, verb string, call func() error) error {
				if verb == "get" {
					return hangUntilDone(ctx)
				}
				return call()
			},
			wantMsg:   []string{`reading the scale of deployment "web" in namespace "team-a"`, "within 100ms", "nothing was written"},
			wantCause: context.DeadlineExceeded, wantStored: 3,
		},
		{
			name: "update hangs before it reaches the API: may have been applied",
			fault: func(ctx context.Context, verb string, call func() error) error {
				if verb == "update" {
					return hangUntilDone(ctx)
				}
				return call()
			},
			wantMsg:   []string{`updating the scale of deployment "web" in namespace "team-a"`, "within 100ms", "the write may have been applied; GET to check"},
			wantCause: context.DeadlineExceeded, wantStored: 3,
		},
		{
			name: "update applied, answer never comes: may have been applied",
			fault: func(ctx context.Context, verb string, call func() error) error {
				if err := call(); err != nil || verb != "update" {
					return err
				}
				return hangUntilDone(ctx)
			},
			wantMsg:   []string{"within 100ms", "the write may have been applied; GET to check"},
			wantCause: context.DeadlineExceeded, wantStored: 5,
		},
		{
			name: "connection reset after the update was applied: may have been applied",
			fault: func(_ context.Context, verb string, call func() error) error {
				if err := call(); err != nil || verb != "update" {
					return err
				}
				return reset
			},
			wantMsg:   []string{"the connection to the Kubernetes API failed while updating", "the write may have been applied; GET to check"},
			wantCause: syscall.ECONNRESET, wantStored: 5,
		},
		{
			name: "connection refused on get: nothing written",
			fault: func(_ context.Context, verb string, call func() error) error {
				if verb == "get" {
					return &url.Error{Op: "Get", URL: "https://kube-apiserver.internal:6443/", Err: syscall.ECONNREFUSED}
				}
				return call()
			},
			wantMsg:   []string{"the connection to the Kubernetes API failed while reading", "nothing was written"},
			wantCause: syscall.ECONNREFUSED, wantStored: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, deployment(ns, name, 3, nil))
			var client kubernetes.Interface = faultyClient{Clientset: f.client.Clientset, fault: tt.fault}
			cache := &stubCache{synced: true, watches: true}
			s := NewScaler(client, cache, ScalerConfig{KubeAPITimeout: 100 * time.Millisecond}, testkit.TestLogger(t))

			type result struct {
				res ScaleResult
				err error
			}
			done := make(chan result, 1)
			go func() {
				res, err := s.Scale(context.Background(), ns, name, 5, IfMatch{})
				done <- result{res, err}
			}()
			var got result
			select {
			case got = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("Scale still running 20s after its 100ms Kubernetes API deadline")
			}

			if !errors.Is(got.err, ErrKubeAPIUnavailable) {
				t.Fatalf("Scale error = %v, want kind ErrKubeAPIUnavailable", got.err)
			}
			if !errors.Is(got.err, tt.wantCause) {
				t.Errorf("Scale error = %v, want it to wrap %v", got.err, tt.wantCause)
			}
			for _, want := range tt.wantMsg {
				if !strings.Contains(got.err.Error(), want) {
					t.Errorf("error %q does not contain %q", got.err, want)
				}
			}
			if strings.Contains(got.err.Error(), "kube-apiserver.internal") {
				t.Errorf("error %q names the API server's address; clients must not see it", got.err)
			}
			if stored := specReplicas(f.stored(ns, name)); stored != tt.wantStored {
				t.Errorf("stored replicas = %d, want %d", stored, tt.wantStored)
			}
		})
	}
}

// TestScaleClientGoneIsNotUnavailable: when the caller's own context ends
// (the HTTP client went away), the error is the cancellation, not a
// Kubernetes API failure.
func TestScaleClientGoneIsNotUnavailable(t *testing.T) {
	f := newFixture(t, deployment("team-a", "web", 3, nil))
	client := faultyClient{Clientset: f.client.Clientset, fault: func(ctx context.Context, _ string, _ func() error) error {
		return hangUntilDone(ctx)
	}}
	s := NewScaler(client, &stubCache{synced: true, watches: true}, ScalerConfig{KubeAPITimeout: time.Minute}, testkit.TestLogger(t))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Scale(ctx, "team-a", "web", 5, IfMatch{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrKubeAPIUnavailable) {
		t.Fatalf("Scale error = %v, want the cancellation and not ErrKubeAPIUnavailable", err)
	}
}
