package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestUnknownQueryParameters: a query parameter the route does not define
// is refused with 400 naming it, before anything is read or written; a
// PUT ?dryRun=All must not write.
func TestUnknownQueryParameters(t *testing.T) {
	tests := []struct {
		name   string
		method string // default GET
		target string
		want   []string
	}{
		{name: "dryRun on PUT", method: http.MethodPut, target: "/api/v1/deployments/web/replicas?dryRun=All",
			want: []string{`unknown query parameter "dryRun"`, "PUT on this path takes: namespace"}},
		{name: "dryRun on namespaced PUT", method: http.MethodPut, target: "/api/v1/namespaces/shop/deployments/web/replicas?dryRun=All",
			want: []string{`unknown query parameter "dryRun"`}},
		{name: "minResourceVersion on PUT", method: http.MethodPut, target: "/api/v1/deployments/web/replicas?minResourceVersion=5",
			want: []string{`unknown query parameter "minResourceVersion"`}},
		{name: "labelSelector on PUT", method: http.MethodPut, target: "/api/v1/deployments/web/replicas?labelSelector=app%3Dweb",
			want: []string{`unknown query parameter "labelSelector"`}},
		{name: "watch on list", target: "/api/v1/deployments?watch=true",
			want: []string{`unknown query parameter "watch"`, "namespace, labelSelector, minResourceVersion"}},
		{name: "limit on namespaced list", target: "/api/v1/namespaces/default/deployments?limit=50",
			want: []string{`unknown query parameter "limit"`}},
		{name: "pretty on get", target: "/api/v1/deployments/web/replicas?pretty=true",
			want: []string{`unknown query parameter "pretty"`}},
		{name: "labelSelector on get", target: "/api/v1/namespaces/default/deployments/web/replicas?labelSelector=a%3Db",
			want: []string{`unknown query parameter "labelSelector"`}},
		{name: "case matters", target: "/api/v1/deployments?Namespace=default",
			want: []string{`unknown query parameter "Namespace"`}},
		{name: "several unknown, sorted", target: "/api/v1/deployments?watch=1&limit=2&namespace=default",
			want: []string{`unknown query parameters "limit", "watch"`}},
		{name: "empty key", target: "/api/v1/deployments?=x",
			want: []string{`unknown query parameter ""`}},
		{name: "anything on health", target: "/api/v1/health?verbose=1",
			want: []string{`unknown query parameter "verbose"`, "GET on this path takes no query parameters"}},
		{name: "anything on openapi", target: "/api/v1/openapi.yaml?format=json",
			want: []string{`unknown query parameter "format"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var rec *httptest.ResponseRecorder
			if tt.method == http.MethodPut {
				rec = f.put(tt.target, `{"replicaCount":7}`)
			} else {
				rec = f.request(http.MethodGet, tt.target, "")
			}
			checkError(t, rec, http.StatusBadRequest, tt.want...)
			if calls := f.scaler.Calls(); len(calls) != 0 {
				t.Errorf("Scale was called: %+v", calls)
			}
			if f.store.gets+len(f.store.listNS)+len(f.store.waitRVs) != 0 {
				t.Errorf("the store was read")
			}
		})
	}
}

// TestKnownQueryParameters: every parameter a route defines is accepted.
func TestKnownQueryParameters(t *testing.T) {
	tests := []struct {
		name   string
		method string // default GET
		target string
	}{
		{name: "list", target: "/api/v1/deployments?namespace=default&labelSelector=app%3Dweb&minResourceVersion=1"},
		{name: "namespaced list", target: "/api/v1/namespaces/default/deployments?namespace=default&labelSelector=app%3Dweb&minResourceVersion=1"},
		{name: "get", target: "/api/v1/deployments/web/replicas?namespace=default&minResourceVersion=1"},
		{name: "namespaced get", target: "/api/v1/namespaces/default/deployments/web/replicas?namespace=default&minResourceVersion=1"},
		{name: "put", method: http.MethodPut, target: "/api/v1/deployments/web/replicas?namespace=default"},
		{name: "namespaced put", method: http.MethodPut, target: "/api/v1/namespaces/default/deployments/web/replicas?namespace=default"},
		{name: "health", target: "/api/v1/health"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var rec *httptest.ResponseRecorder
			if tt.method == http.MethodPut {
				rec = f.put(tt.target, `{"replicaCount":7}`)
			} else {
				rec = f.request(http.MethodGet, tt.target, "")
			}
			if rec.Code != http.StatusOK {
				t.Errorf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
		})
	}
}

// TestQueryParametersTableCoversRoutes: every route has an entry in the
// table, so a new route must say which parameters it takes.
func TestQueryParametersTableCoversRoutes(t *testing.T) {
	for _, rt := range Routes() {
		if _, ok := routeQueryParams[rt.Name]; !ok {
			t.Errorf("route %s has no entry in routeQueryParams", rt.Name)
		}
	}
}
