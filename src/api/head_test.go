package api

import (
	"net/http"
	"testing"
)

// TestHead: HEAD on every GET path answers what GET answers, status and
// headers (Content-Length and ETag included), without a body.
func TestHead(t *testing.T) {
	tests := []struct {
		name   string
		target string
		status int
	}{
		{name: "list", target: "/api/v1/deployments", status: http.StatusOK},
		{name: "namespaced list", target: "/api/v1/namespaces/default/deployments?labelSelector=app%3Dweb", status: http.StatusOK},
		{name: "get", target: "/api/v1/deployments/web/replicas", status: http.StatusOK},
		{name: "namespaced get", target: "/api/v1/namespaces/shop/deployments/web/replicas", status: http.StatusOK},
		{name: "health", target: "/api/v1/health", status: http.StatusOK},
		{name: "openapi", target: "/api/v1/openapi.yaml", status: http.StatusOK},
		{name: "not found", target: "/api/v1/deployments/missing/replicas", status: http.StatusNotFound},
		{name: "bad name", target: "/api/v1/deployments/Web/replicas", status: http.StatusBadRequest},
		{name: "unknown parameter", target: "/api/v1/deployments?watch=true", status: http.StatusBadRequest},
		{name: "unknown path", target: "/api/v1/nope", status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			get := f.request(http.MethodGet, tt.target, "")
			head := f.request(http.MethodHead, tt.target, "")
			if get.Code != tt.status || head.Code != tt.status {
				t.Errorf("status GET %d, HEAD %d; want %d for both", get.Code, head.Code, tt.status)
			}
			if head.Body.Len() != 0 {
				t.Errorf("HEAD answered with a body: %.200s", head.Body)
			}
			for _, key := range []string{"Content-Type", "Content-Length", "Etag", "X-Content-Type-Options", "Allow"} {
				if g, h := get.Header().Get(key), head.Header().Get(key); g != h {
					t.Errorf("%s: GET %q, HEAD %q", key, g, h)
				}
			}
			if head.Header().Get("Content-Length") == "" {
				t.Error("HEAD has no Content-Length")
			}
		})
	}
}
