package api

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gorilla/mux"
)

func TestPathMatcher(t *testing.T) {
	tests := []struct {
		name     string
		template string
		path     string
		want     map[string]string // nil: no match
	}{
		{name: "literal path", template: PathDeployments, path: "/api/v1/deployments", want: map[string]string{}},
		{name: "literal path, trailing slash", template: PathDeployments, path: "/api/v1/deployments/"},
		{name: "literal path, other literal", template: PathDeployments, path: "/api/v1/deployment"},
		{name: "literal path, prefix only", template: PathDeployments, path: "/api/v1"},
		{name: "variables", template: PathNamespacedReplicas, path: "/api/v1/namespaces/ns/deployments/web/replicas",
			want: map[string]string{"namespace": "ns", "name": "web"}},
		{name: "empty variable", template: PathNamespacedReplicas, path: "/api/v1/namespaces//deployments/web/replicas"},
		{name: "extra segment", template: PathNamespacedReplicas, path: "/api/v1/namespaces/ns/deployments/a/b/replicas"},
		{name: "missing segment", template: PathNamespacedReplicas, path: "/api/v1/namespaces/ns/deployments/replicas"},
		{name: "wrong literal among variables", template: PathNamespacedReplicas, path: "/api/v1/namespaces/ns/deployment/web/replicas"},
		{name: "trailing slash after variables", template: PathNamespacedReplicas, path: "/api/v1/namespaces/ns/deployments/web/replicas/"},
		{name: "unicode variable", template: PathReplicas, path: "/api/v1/deployments/wéb/replicas", want: map[string]string{"name": "wéb"}},
		{name: "no leading slash", template: PathReplicas, path: "api/v1/deployments/web/replicas"},
		{name: "empty path", template: PathReplicas, path: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{URL: &url.URL{Path: tt.path}}
			match := &mux.RouteMatch{Vars: map[string]string{"stale": "from another route"}}
			ok := pathMatcher(tt.template)(r, match)
			if ok != (tt.want != nil) {
				t.Fatalf("pathMatcher(%q) on %q = %v, want %v", tt.template, tt.path, ok, tt.want != nil)
			}
			if ok && !maps.Equal(match.Vars, tt.want) {
				t.Errorf("vars = %v, want %v", match.Vars, tt.want)
			}
		})
	}
}

func TestPathMatcherRefusesCustomPatterns(t *testing.T) {
	for _, template := range []string{"/x/{name:.*}", "/x/{name", "/x/{}"} {
		if pathMatcher(template) != nil {
			t.Errorf("pathMatcher(%q) is not nil", template)
		}
	}
}

// TestPathMatcherAgreesWithMux checks pathMatcher against mux's own
// matching of each route's template (a regular expression): the same
// answer and the same variables, on paths near every template.
func TestPathMatcherAgreesWithMux(t *testing.T) {
	paths := []string{
		"/", "//", "/api/v1", "/api/v1/", "/api/v1/health", "/api/v1/openapi.yaml", "/api/v1/deployments", "/api/v1/deployments/",
		"/api/v1/deployments/web", "/api/v1/deployments/web/replicas", "/api/v1/deployments/web/replicas/",
		"/api/v1/deployments//replicas", "/api/v1/deployments/a b/replicas", "/api/v1/deployments/\n/replicas",
		"/api/v1/deployments/\xff/replicas", "/api/v1/namespaces/ns/deployments", "/api/v1/namespaces//deployments",
		"/api/v1/namespaces/ns/deployments/web/replicas", "/api/v1/namespaces/ns/deployments/web/replicas/x",
		"/api/v1/namespaces/n.s/deployments/w-b/replicas", "/api/v1/namespaces/x/../deployments/web/replicas",
	}
	for _, rt := range Routes() {
		route := mux.NewRouter().SkipClean(true).Path(rt.Path)
		matcher := pathMatcher(rt.Path)
		for _, p := range paths {
			r := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
			r.URL.Path = p
			want := &mux.RouteMatch{}
			wantOK := route.Match(r, want)
			got := &mux.RouteMatch{}
			if ok := matcher(r, got); ok != wantOK {
				t.Errorf("template %q on %q: pathMatcher says %v, mux %v", rt.Path, p, ok, wantOK)
			} else if ok && !maps.Equal(got.Vars, want.Vars) {
				t.Errorf("template %q on %q: vars %v, mux's %v", rt.Path, p, got.Vars, want.Vars)
			}
		}
	}
}

func TestPathTemplate(t *testing.T) {
	tests := []struct{ name, want string }{
		{name: RouteGetNamespacedReplicas, want: PathNamespacedReplicas},
		{name: RouteListDeployments, want: PathDeployments},
		{name: MethodNotAllowedRoutePrefix + PathReplicas, want: PathReplicas},
		{name: "unknown", want: ""},
	}
	for _, tt := range tests {
		if got := PathTemplate(tt.name); got != tt.want {
			t.Errorf("PathTemplate(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
