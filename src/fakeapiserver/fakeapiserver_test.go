package fakeapiserver_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/replicasd/replicasd/src/fakeapiserver"
)

func TestServesWhatTheClientNeeds(t *testing.T) {
	three := int32(3)
	api := fakeapiserver.New(t,
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web"}, Spec: appsv1.DeploymentSpec{Replicas: &three}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "db"}},
	)
	client := kubernetes.NewForConfigOrDie(api.RESTConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	deps := client.AppsV1().Deployments("a")

	list, err := deps.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "web" || list.ResourceVersion != "2" {
		t.Fatalf("List(a) = %+v, %v", list, err)
	}
	w, err := deps.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	scale, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil || scale.Spec.Replicas != 3 || scale.ResourceVersion != "1" {
		t.Fatalf("GetScale = %+v, %v", scale, err)
	}
	scale.Spec.Replicas = 5
	api.HoldEvents(true)
	updated, err := deps.UpdateScale(ctx, "web", scale, metav1.UpdateOptions{})
	if err != nil || updated.Spec.Replicas != 5 || updated.ResourceVersion != "3" {
		t.Fatalf("UpdateScale = %+v, %v", updated, err)
	}
	select {
	case ev := <-w.ResultChan():
		t.Fatalf("an event came through while events are held: %s", ev.Type)
	case <-time.After(100 * time.Millisecond): // only bounds a failing case
	}
	api.HoldEvents(false)
	if _, err := deps.UpdateScale(ctx, "web", scale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("UpdateScale with a stale resourceVersion: %v, want a conflict", err)
	}
	if _, err := deps.GetScale(ctx, "nope", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("GetScale(nope): %v, want not found", err)
	}

	select {
	case ev := <-w.ResultChan():
		d, _ := ev.Object.(*appsv1.Deployment)
		if ev.Type != watch.Modified || d == nil || *d.Spec.Replicas != 5 || d.ResourceVersion != "3" {
			t.Errorf("watch event = %s %+v", ev.Type, ev.Object)
		}
	case <-ctx.Done():
		t.Fatal("no watch event after the scale")
	}

	api.SetDown(true)
	select {
	case _, open := <-w.ResultChan():
		if open {
			t.Error("the watch got an event from an API server that is down")
		}
	case <-ctx.Done():
		t.Fatal("the watch did not end when the API server went down")
	}
	if _, err := deps.List(ctx, metav1.ListOptions{}); !apierrors.IsServiceUnavailable(err) {
		t.Errorf("List while down: %v, want service unavailable", err)
	}
	api.SetDown(false)

	api.Token = "t"
	if _, err := deps.List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("List without the token: %v, want unauthorized", err)
	}
	if got := api.Requests(); got["GET list"] != 1 || got["GET watch"] != 1 || got["PUT scale"] != 2 || got["401"] != 1 || got["503"] < 1 {
		t.Errorf("requests = %v", got)
	}
}
