package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gorilla/mux"
)

func TestPathShape(t *testing.T) {
	tests := []struct {
		name     string
		template string
		path     string
		want     bool
	}{
		{name: "literal path", template: PathDeployments, path: "/api/v1/deployments", want: true},
		{name: "literal path, trailing slash", template: PathDeployments, path: "/api/v1/deployments/", want: false},
		{name: "literal path, other literal", template: PathDeployments, path: "/api/v1/deployment", want: false},
		{name: "literal path, prefix only", template: PathDeployments, path: "/api/v1", want: false},
		{name: "variables", template: PathNamespacedReplicas, path: "/api/v1/namespaces/ns/deployments/web/replicas", want: true},
		{name: "empty variable", template: PathNamespacedReplicas, path: "/api/v1/namespaces//deployments/web/replicas", want: false},
		{name: "extra segment", template: PathNamespacedReplicas, path: "/api/v1/namespaces/ns/deployments/a/b/replicas", want: false},
		{name: "missing segment", template: PathNamespacedReplicas, path: "/api/v1/namespaces/ns/deployments/replicas", want: false},
		{name: "wrong literal among variables", template: PathNamespacedReplicas, path: "/api/v1/namespaces/ns/deployment/web/replicas", want: false},
		{name: "trailing slash after variables", template: PathNamespacedReplicas, path: "/api/v1/namespaces/ns/deployments/web/replicas/", want: false},
		{name: "unicode variable", template: PathReplicas, path: "/api/v1/deployments/wéb/replicas", want: true},
		{name: "no leading slash", template: PathReplicas, path: "api/v1/deployments/web/replicas", want: false},
		{name: "empty path", template: PathReplicas, path: "", want: false},
		{name: "custom pattern accepts everything", template: "/x/{name:.*}", path: "/y", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{URL: &url.URL{Path: tt.path}}
			if got := pathShape(tt.template)(r, &mux.RouteMatch{}); got != tt.want {
				t.Errorf("pathShape(%q) on %q = %v, want %v", tt.template, tt.path, got, tt.want)
			}
		})
	}
}

// TestPathShapeNeverRefusesWhatTheTemplateAccepts checks pathShape against
// mux's own matching of each route's template, on paths near every
// template.
func TestPathShapeNeverRefusesWhatTheTemplateAccepts(t *testing.T) {
	paths := []string{
		"/", "//", "/api/v1", "/api/v1/", "/api/v1/health", "/api/v1/deployments", "/api/v1/deployments/",
		"/api/v1/deployments/web", "/api/v1/deployments/web/replicas", "/api/v1/deployments/web/replicas/",
		"/api/v1/deployments//replicas", "/api/v1/deployments/a b/replicas", "/api/v1/deployments/%2F/replicas",
		"/api/v1/namespaces/ns/deployments", "/api/v1/namespaces//deployments", "/api/v1/namespaces/ns/deployments/web/replicas",
		"/api/v1/namespaces/ns/deployments/web/replicas/x", "/api/v1/namespaces/n.s/deployments/w-b/replicas",
	}
	for _, rt := range Routes() {
		plain := mux.NewRouter().SkipClean(true)
		route := plain.Path(rt.Path)
		for _, p := range paths {
			r := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
			r.URL.Path = p
			if route.Match(r, &mux.RouteMatch{}) && !pathShape(rt.Path)(r, &mux.RouteMatch{}) {
				t.Errorf("template %q matches %q but pathShape refuses it", rt.Path, p)
			}
		}
	}
}
