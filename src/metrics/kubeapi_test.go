package metrics_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/replicasd/replicasd/src/fakeapiserver"
)

func TestKubeAPIMetricsCountRealClientCalls(t *testing.T) {
	web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}
	apiA := fakeapiserver.New(t, web)
	apiB := fakeapiserver.New(t)
	apiB.Token = "right"

	mA, regA := newMetrics(t)
	stopA, err := mA.ObserveKubeAPI(apiA.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	mB, regB := newMetrics(t)
	stopB, err := mB.ObserveKubeAPI(apiB.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer stopB()

	clientA := kubernetes.NewForConfigOrDie(apiA.RESTConfig())
	cfgB := apiB.RESTConfig()
	cfgB.BearerToken = "wrong"
	clientB := kubernetes.NewForConfigOrDie(cfgB)
	ctx := context.Background()
	for range 3 {
		if _, err := clientA.AppsV1().Deployments("").List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := clientB.AppsV1().Deployments("").List(ctx, metav1.ListOptions{}); err == nil {
		t.Fatal("a wrong token was accepted")
	}

	if got := value(t, regA, "replicasd_kube_api_requests_total", "verb=GET", "code=200"); got != 3 {
		t.Errorf("server A: kube_api_requests_total{GET,200} = %v, want 3", got)
	}
	if got := value(t, regA, "replicasd_kube_api_request_duration_seconds", "verb=GET"); got != 3 {
		t.Errorf("server A: kube_api_request_duration_seconds count = %v, want 3", got)
	}
	if got := value(t, regB, "replicasd_kube_api_requests_total", "verb=GET", "code=401"); got != 1 {
		t.Errorf("server B: kube_api_requests_total{GET,401} = %v, want 1", got)
	}
	if _, ok := lookup(t, regB, "replicasd_kube_api_requests_total", "verb=GET", "code=200"); ok {
		t.Error("server B counted server A's calls")
	}

	stopA()
	if _, err := clientA.AppsV1().Deployments("").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := value(t, regA, "replicasd_kube_api_requests_total", "verb=GET", "code=200"); got != 3 {
		t.Errorf("after stop: kube_api_requests_total = %v, want still 3", got)
	}
	if n := apiA.Requests()["GET list"]; n != 4 {
		t.Errorf("the fake API server saw %d lists, want 4", n)
	}
}
