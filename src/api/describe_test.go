package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/requestinfo"
)

// previousScaler answers like the real Scaler: the state it read before
// writing comes back on success and on a precondition failure.
type previousScaler struct{ err error }

func (s previousScaler) Scale(_ context.Context, namespace, name string, replicas int32, _ deployments.IfMatch) (deployments.ScaleResult, error) {
	res := deployments.ScaleResult{
		Namespace: namespace, Name: name, Replicas: replicas,
		PreviousReplicas: 3, PreviousResourceVersion: "100",
	}
	if s.err != nil {
		return res, s.err
	}
	res.ResourceVersion, res.Changed = "101", true
	return res, nil
}

func TestRequestInfo(t *testing.T) {
	i32 := func(n int32) *int32 { return &n }
	i64 := func(n int64) *int64 { return &n }
	tests := []struct {
		name    string
		method  string
		target  string
		body    string
		scaler  previousScaler
		refuse  bool // a middleware added with Use answers 403 first
		want    requestinfo.Info
		wantMsg string // substring of Info.Reason
	}{
		{
			name: "get with default namespace", method: "GET", target: "/api/v1/deployments/web/replicas",
			want: requestinfo.Info{Verb: "get", Namespace: "default", Name: "web"},
		},
		{
			name: "get with namespace query", method: "GET", target: "/api/v1/deployments/web/replicas?namespace=shop",
			want: requestinfo.Info{Verb: "get", Namespace: "shop", Name: "web"},
		},
		{
			name: "namespaced list", method: "GET", target: "/api/v1/namespaces/shop/deployments",
			want: requestinfo.Info{Verb: "list", Namespace: "shop"},
		},
		{
			name: "list of all namespaces", method: "GET", target: "/api/v1/deployments",
			want: requestinfo.Info{Verb: "list"},
		},
		{
			name: "health", method: "GET", target: "/api/v1/health",
			want: requestinfo.Info{Verb: "health"},
		},
		{
			name: "not found in the cache", method: "GET", target: "/api/v1/namespaces/shop/deployments/nope/replicas",
			want:    requestinfo.Info{Verb: "get", Namespace: "shop", Name: "nope", Status: 404},
			wantMsg: `deployment "nope" not found`,
		},
		{
			name: "scale refused before the handler", method: "PUT", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount": 4}`,
			refuse: true,
			want:   requestinfo.Info{Verb: "scale", Namespace: "default", Name: "web"},
		},
		{
			name: "scale", method: "PUT", target: "/api/v1/namespaces/shop/deployments/web/replicas", body: `{"replicaCount": 4}`,
			want: requestinfo.Info{
				Verb: "scale", Namespace: "shop", Name: "web", Changed: true, ReplicasRequested: i64(4),
				ReplicasBefore: i32(3), ReplicasAfter: i32(4), ResourceVersionBefore: "100", ResourceVersionAfter: "101",
			},
		},
		{
			name: "scale precondition failed", method: "PUT", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount": 4}`,
			scaler: previousScaler{err: deployments.PreconditionFailed("default", "web", "99", "100")},
			want: requestinfo.Info{
				Verb: "scale", Namespace: "default", Name: "web", Status: 412, ReplicasRequested: i64(4),
				ReplicasBefore: i32(3), ResourceVersionBefore: "100",
			},
			wantMsg: `"99"`,
		},
		{
			name: "scale with a bad body", method: "PUT", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount": -1}`,
			want:    requestinfo.Info{Verb: "scale", Namespace: "default", Name: "web", Status: 400, ReplicasRequested: i64(-1)},
			wantMsg: "must not be negative",
		},
		{
			name: "scale with a count too large for any int", method: "PUT", target: "/api/v1/deployments/web/replicas", body: `{"replicaCount": 99999999999999999999}`,
			want:    requestinfo.Info{Verb: "scale", Namespace: "default", Name: "web", Status: 400},
			wantMsg: "above the maximum",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			router := NewRouter(Options{Store: newFakeStore(standardDeployments()...), Scaler: tt.scaler, Health: &fakeHealth{}})
			var seen requestinfo.Info
			router.Use(func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					seen = *requestinfo.From(r.Context())
					if tt.refuse {
						w.WriteHeader(http.StatusForbidden)
						_ = json.NewEncoder(w).Encode(errorBody{Error: "no"})
						return
					}
					next.ServeHTTP(w, r)
				})
			})
			info := &requestinfo.Info{}
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			r = r.WithContext(requestinfo.With(r.Context(), info))
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, r)

			if seen.Verb != tt.want.Verb || seen.Namespace != tt.want.Namespace || seen.Name != tt.want.Name {
				t.Errorf("Info seen by later middleware = %+v, want verb %q namespace %q name %q",
					seen, tt.want.Verb, tt.want.Namespace, tt.want.Name)
			}
			if tt.refuse {
				return
			}
			if !strings.Contains(info.Reason, tt.wantMsg) || (tt.wantMsg == "") != (info.Reason == "") {
				t.Errorf("Info.Reason = %q, want it to contain %q", info.Reason, tt.wantMsg)
			}
			if info.Route == "" || !strings.HasPrefix(tt.target, strings.Split(info.Route, "{")[0]) {
				t.Errorf("Info.Route = %q for %s", info.Route, tt.target)
			}
			got := *info
			got.Reason, got.Route = "", ""
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Info = %s\nwant   %s", describeInfo(got), describeInfo(tt.want))
			}
			if tt.want.Status != 0 && rec.Code != tt.want.Status {
				t.Errorf("status = %d, want %d", rec.Code, tt.want.Status)
			}
		})
	}
}

func describeInfo(i requestinfo.Info) string {
	b, _ := json.Marshal(i)
	return string(b)
}
