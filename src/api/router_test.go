package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
)

func TestNotFoundPaths(t *testing.T) {
	tests := []struct {
		name   string
		method string
		target string
	}{
		{name: "root", method: http.MethodGet, target: "/"},
		{name: "api root", method: http.MethodGet, target: "/api/v1"},
		{name: "other version", method: http.MethodGet, target: "/api/v2/deployments"},
		{name: "trailing slash on list", method: http.MethodGet, target: "/api/v1/deployments/"},
		{name: "trailing slash on replicas", method: http.MethodPut, target: "/api/v1/deployments/web/replicas/"},
		{name: "deployment without replicas", method: http.MethodGet, target: "/api/v1/deployments/web"},
		{name: "encoded slash in name", method: http.MethodGet, target: "/api/v1/deployments/a%2Fb/replicas"},
		{name: "double slash is not cleaned", method: http.MethodGet, target: "/api/v1//deployments"},
		{name: "dot segment is not cleaned", method: http.MethodPut, target: "/api/v1/namespaces/x/../deployments/web/replicas"},
		{name: "namespaces without name", method: http.MethodGet, target: "/api/v1/namespaces/deployments"},
		{name: "unknown subresource", method: http.MethodGet, target: "/api/v1/deployments/web/scale"},
		{name: "case differs", method: http.MethodGet, target: "/API/v1/deployments"},
		{name: "unknown path, unknown method", method: http.MethodDelete, target: "/nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.request(tt.method, tt.target, "")
			checkError(t, rec, http.StatusNotFound, "no such path")
			if rec.Header().Get("Location") != "" {
				t.Errorf("unexpected redirect to %q", rec.Header().Get("Location"))
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	paths := []struct {
		target string
		allow  string
		wrong  []string
	}{
		{target: "/api/v1/deployments", allow: "GET, HEAD", wrong: []string{http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodPatch, http.MethodOptions}},
		{target: "/api/v1/namespaces/default/deployments", allow: "GET, HEAD", wrong: []string{http.MethodPut, http.MethodPost, http.MethodDelete}},
		{target: "/api/v1/deployments/web/replicas", allow: "GET, HEAD, PUT", wrong: []string{http.MethodPost, http.MethodDelete, http.MethodPatch, http.MethodOptions}},
		{target: "/api/v1/namespaces/default/deployments/web/replicas", allow: "GET, HEAD, PUT", wrong: []string{http.MethodPost, http.MethodDelete, http.MethodPatch}},
		{target: "/api/v1/health", allow: "GET, HEAD", wrong: []string{http.MethodPut, http.MethodPost, http.MethodDelete}},
		{target: "/api/v1/openapi.yaml", allow: "GET, HEAD", wrong: []string{http.MethodPut, http.MethodPost, http.MethodDelete}},
	}
	for _, p := range paths {
		for _, method := range p.wrong {
			t.Run(method+" "+p.target, func(t *testing.T) {
				f := newFixture(t)
				rec := f.request(method, p.target, `{"replicaCount":3}`, "Content-Type", "application/json")
				checkError(t, rec, http.StatusMethodNotAllowed, "method "+method+" is not allowed", p.allow)
				if got := rec.Header().Get("Allow"); got != p.allow {
					t.Errorf("Allow = %q, want %q", got, p.allow)
				}
				if calls := f.scaler.Calls(); len(calls) != 0 {
					t.Errorf("Scale was called: %+v", calls)
				}
			})
		}
	}
}

// TestRouteNames checks that middleware added with Use sees each endpoint's
// name and path template, which later authorization and metrics rely on.
func TestRouteNames(t *testing.T) {
	tests := []struct {
		method, target, name, template string
	}{
		{http.MethodGet, "/api/v1/deployments", RouteListDeployments, PathDeployments},
		{http.MethodGet, "/api/v1/namespaces/default/deployments", RouteListNamespacedDeployments, PathNamespacedDeployments},
		{http.MethodGet, "/api/v1/deployments/web/replicas", RouteGetReplicas, PathReplicas},
		{http.MethodPut, "/api/v1/deployments/web/replicas", RoutePutReplicas, PathReplicas},
		{http.MethodGet, "/api/v1/namespaces/shop/deployments/web/replicas", RouteGetNamespacedReplicas, PathNamespacedReplicas},
		{http.MethodPut, "/api/v1/namespaces/shop/deployments/web/replicas", RoutePutNamespacedReplicas, PathNamespacedReplicas},
		{http.MethodGet, "/api/v1/health", RouteHealth, PathHealth},
		{http.MethodHead, "/api/v1/deployments/web/replicas", RouteGetReplicas, PathReplicas},
		{http.MethodGet, "/api/v1/openapi.yaml", RouteOpenAPI, PathOpenAPI},
		{http.MethodDelete, "/api/v1/deployments/web/replicas", MethodNotAllowedRoutePrefix + PathReplicas, PathReplicas},
	}
	if got, want := len(Routes()), 8; got != want {
		t.Fatalf("Routes() has %d entries, want %d", got, want)
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			f := newFixture(t)
			router := NewRouter(Options{Store: f.store, Scaler: f.scaler, Health: f.health})
			var gotName, gotTemplate string
			router.Use(func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					route := mux.CurrentRoute(r)
					gotName = route.GetName()
					gotTemplate = PathTemplate(route.GetName())
					next.ServeHTTP(w, r)
				})
			})
			r := httptest.NewRequest(tt.method, tt.target, nil)
			r.Header.Set("Content-Type", "application/json")
			router.ServeHTTP(httptest.NewRecorder(), r)
			if gotName != tt.name || gotTemplate != tt.template {
				t.Errorf("route = %q %q, want %q %q", gotName, gotTemplate, tt.name, tt.template)
			}
		})
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New without a Store did not panic")
		}
	}()
	New(Options{Scaler: &fakeScaler{}, Health: fakeHealth{}})
}
