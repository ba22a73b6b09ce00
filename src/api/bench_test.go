package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/replicasd/replicasd/src/deployments"
)

// benchStore answers from fixed data without locking or copying, so the
// benchmarks measure this package.
type benchStore struct {
	one  *deployments.Deployment
	list []*deployments.Deployment
}

func (s benchStore) Get(string, string) (*deployments.Deployment, error) { return s.one, nil }
func (s benchStore) List(string, labels.Selector) ([]*deployments.Deployment, error) {
	return s.list, nil
}
func (s benchStore) WaitForNamespaceResourceVersion(context.Context, string, string) error {
	return nil
}

// discardWriter is a ResponseWriter that keeps nothing but reuses its header
// map, like net/http's does per request.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header    { return w.h }
func (w *discardWriter) WriteHeader(status int) { w.status = status }
func (w *discardWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

func benchServe(b *testing.B, store benchStore, target string) {
	h := New(Options{Store: store, Scaler: &fakeScaler{}, Health: fakeHealth{}})
	r := httptest.NewRequest(http.MethodGet, target, nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.n = 0
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.SetBytes(int64(w.n))
}

func BenchmarkGetReplicas(b *testing.B) {
	benchServe(b, benchStore{one: deployment("default", "web", int32p(3), "123456", map[string]string{"app": "web"})},
		"/api/v1/namespaces/default/deployments/web/replicas")
}

func BenchmarkListDeployments1k(b *testing.B) {
	list := make([]*deployments.Deployment, 1000)
	for i := range list {
		list[i] = deployment(fmt.Sprintf("ns-%02d", i/100), fmt.Sprintf("deployment-%04d", i), int32p(int32(i%10)), fmt.Sprint(100000+i), nil)
	}
	benchServe(b, benchStore{list: list}, "/api/v1/deployments")
}
