package app

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGrowStackPassesRequestsThrough(t *testing.T) {
	tests := []struct {
		name  string
		major int
	}{
		{name: "HTTP/1.1", major: 1},
		{name: "HTTP/2", major: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *http.Request
			h := growStack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r
				w.WriteHeader(http.StatusTeapot)
			}))
			r := httptest.NewRequest(http.MethodGet, "/api/v1/deployments", nil)
			r.ProtoMajor = tt.major
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got != r || w.Code != http.StatusTeapot {
				t.Errorf("next saw %p (want %p) and answered %d, want %d", got, r, w.Code, http.StatusTeapot)
			}
		})
	}
}
