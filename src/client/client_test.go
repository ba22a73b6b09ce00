package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/client"
	"github.com/replicasd/replicasd/src/client/clienttest"
)

var (
	web = clienttest.Deployment{
		Deployment: client.Deployment{
			Namespace: "default", Name: "web", ReplicaCount: 3, ResourceVersion: "11",
			ReadyReplicas: 2, AvailableReplicas: 2, UpdatedReplicas: 3,
			CreationTimestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		},
		Labels: map[string]string{"app": "web"},
	}
	api = clienttest.Deployment{
		Deployment: client.Deployment{Namespace: "team-a", Name: "api", ReplicaCount: 1, ResourceVersion: "12"},
		Labels:     map[string]string{"app": "api"},
	}
	worker = clienttest.Deployment{
		Deployment: client.Deployment{Namespace: "team-a", Name: "worker", ReplicaCount: 0, ResourceVersion: "13"},
		Labels:     map[string]string{"app": "worker"},
	}
)

// newFixture starts a fake server with three Deployments and a client with
// a valid certificate.
func newFixture(t *testing.T) (*clienttest.Server, *client.Client) {
	t.Helper()
	pki := clienttest.NewPKI(t)
	srv := clienttest.NewServer(t, pki, web, api, worker)
	c, err := client.New(client.Config{Server: srv.URL, CertFile: pki.CertFile, KeyFile: pki.KeyFile, CAFile: pki.CAFile})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return srv, c
}

func lastRequest(t *testing.T, srv *clienttest.Server) clienttest.Request {
	t.Helper()
	reqs := srv.Requests()
	if len(reqs) == 0 {
		t.Fatal("the server received no request")
	}
	return reqs[len(reqs)-1]
}

func names(ds []client.Deployment) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Namespace+"/"+d.Name)
	}
	return out
}

func TestList(t *testing.T) {
	srv, c := newFixture(t)
	tests := []struct {
		name, namespace, selector string
		wantPath, wantQuery       string
		want                      []string
	}{
		{name: "all namespaces", wantPath: "/api/v1/deployments", want: []string{"default/web", "team-a/api", "team-a/worker"}},
		{name: "one namespace", namespace: "team-a", wantPath: "/api/v1/namespaces/team-a/deployments", want: []string{"team-a/api", "team-a/worker"}},
		{name: "selector", selector: "app in (web,worker)", wantPath: "/api/v1/deployments",
			wantQuery: "labelSelector=app+in+%28web%2Cworker%29", want: []string{"default/web", "team-a/worker"}},
		{name: "empty", namespace: "nobody", wantPath: "/api/v1/namespaces/nobody/deployments", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.List(t.Context(), tt.namespace, tt.selector)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if got == nil {
				t.Fatal("List returned nil, want a non-nil slice")
			}
			if g := names(got); !equal(g, tt.want) {
				t.Errorf("List = %v, want %v", g, tt.want)
			}
			req := lastRequest(t, srv)
			if req.Method != http.MethodGet || req.Path != tt.wantPath || req.RawQuery != tt.wantQuery {
				t.Errorf("request = %s %s?%s, want GET %s?%s", req.Method, req.Path, req.RawQuery, tt.wantPath, tt.wantQuery)
			}
			if req.User != clienttest.DefaultUser {
				t.Errorf("server saw user %q, want %q", req.User, clienttest.DefaultUser)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGet(t *testing.T) {
	srv, c := newFixture(t)
	tests := []struct {
		name, namespace string
		wantPath        string
	}{
		{name: "namespaced", namespace: "default", wantPath: "/api/v1/namespaces/default/deployments/web/replicas"},
		{name: "server default namespace", wantPath: "/api/v1/deployments/web/replicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, etag, err := c.Get(t.Context(), tt.namespace, "web")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got != web.Deployment {
				t.Errorf("Get = %+v, want %+v", got, web.Deployment)
			}
			if etag != `"11"` {
				t.Errorf("ETag = %q, want %q", etag, `"11"`)
			}
			if req := lastRequest(t, srv); req.Path != tt.wantPath {
				t.Errorf("path = %s, want %s", req.Path, tt.wantPath)
			}
		})
	}
}

func TestGetNotFound(t *testing.T) {
	_, c := newFixture(t)
	_, _, err := c.Get(t.Context(), "team-a", "nope")
	apiErr, ok := errors.AsType[*client.APIError](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *client.APIError", err, err)
	}
	if apiErr.StatusCode != http.StatusNotFound || apiErr.Message != `deployment "nope" not found in namespace "team-a"` {
		t.Errorf("APIError = %d %q", apiErr.StatusCode, apiErr.Message)
	}
	if client.StatusCode(err) != http.StatusNotFound {
		t.Errorf("StatusCode(err) = %d, want 404", client.StatusCode(err))
	}
}

func TestScale(t *testing.T) {
	tests := []struct {
		name, namespace, ifMatch string
		replicas                 int32
		wantPath, wantIfMatch    string
		wantChanged              bool
	}{
		{name: "unconditional", namespace: "team-a", replicas: 5,
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", wantChanged: true},
		{name: "bare resourceVersion is quoted", namespace: "team-a", replicas: 4, ifMatch: "12",
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", wantIfMatch: `"12"`, wantChanged: true},
		{name: "ETag as it is", namespace: "team-a", replicas: 4, ifMatch: `"12"`,
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", wantIfMatch: `"12"`, wantChanged: true},
		{name: "unchanged", namespace: "team-a", replicas: 1,
			wantPath: "/api/v1/namespaces/team-a/deployments/api/replicas", wantChanged: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFixture(t)
			res, etag, err := c.Scale(t.Context(), tt.namespace, "api", tt.replicas, tt.ifMatch)
			if err != nil {
				t.Fatalf("Scale: %v", err)
			}
			want := client.ScaleResponse{Message: "Replica count updated successfully.", Namespace: "team-a", Name: "api",
				ReplicaCount: tt.replicas, Changed: tt.wantChanged}
			if !reflect.DeepEqual(res, want) {
				t.Errorf("Scale = %+v, want %+v", res, want)
			}
			now, _ := srv.Deployment("team-a", "api")
			if now.ReplicaCount != tt.replicas || etag != `"`+now.ResourceVersion+`"` {
				t.Errorf("server has %d replicas at %q, client got ETag %s", now.ReplicaCount, now.ResourceVersion, etag)
			}
			req := lastRequest(t, srv)
			var body map[string]any
			if err := json.Unmarshal([]byte(req.Body), &body); err != nil || len(body) != 1 || body["replicaCount"] != float64(tt.replicas) {
				t.Errorf("body = %s, want {\"replicaCount\":%d}", req.Body, tt.replicas)
			}
			if req.Method != http.MethodPut || req.Path != tt.wantPath {
				t.Errorf("request = %s %s, want PUT %s", req.Method, req.Path, tt.wantPath)
			}
			if ct := req.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if im := req.Header.Get("If-Match"); im != tt.wantIfMatch {
				t.Errorf("If-Match = %q, want %q", im, tt.wantIfMatch)
			}
		})
	}
}

func TestScaleStaleIfMatch(t *testing.T) {
	srv, c := newFixture(t)
	_, err := scaleErr(c.Scale(t.Context(), "team-a", "api", 7, `"1"`))
	apiErr, ok := errors.AsType[*client.APIError](err)
	if !ok || apiErr.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("err = %v, want a 412 APIError", err)
	}
	if want := `deployment team-a/api has resourceVersion "12", not "1" as If-Match requires; nothing was written`; apiErr.Message != want {
		t.Errorf("Message = %q, want %q", apiErr.Message, want)
	}
	if d, _ := srv.Deployment("team-a", "api"); d.ReplicaCount != 1 {
		t.Errorf("replicas = %d after a stale PUT, want 1", d.ReplicaCount)
	}
}

func scaleErr(_ client.ScaleResponse, _ string, err error) (struct{}, error) { return struct{}{}, err }

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name           string
		handler        http.Handler
		wantStatus     int
		wantMessage    string
		wantRetryAfter time.Duration
	}{
		{name: "envelope", handler: clienttest.ErrorHandler(http.StatusForbidden, `user "alice" may not list`, nil),
			wantStatus: 403, wantMessage: `user "alice" may not list`},
		{name: "retry after", handler: clienttest.ErrorHandler(http.StatusServiceUnavailable, "cache not synced",
			http.Header{"Retry-After": {"7"}}), wantStatus: 503, wantMessage: "cache not synced", wantRetryAfter: 7 * time.Second},
		{name: "too many requests", handler: clienttest.ErrorHandler(http.StatusTooManyRequests, "slow down",
			http.Header{"Retry-After": {"2"}}), wantStatus: 429, wantMessage: "slow down", wantRetryAfter: 2 * time.Second},
		{name: "no envelope", handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>\n  bad   gateway\n</html>\n"))
		}), wantStatus: 502, wantMessage: "<html> bad gateway </html>"},
		{name: "empty body", handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}), wantStatus: 500, wantMessage: "Internal Server Error"},
		{name: "redirect is not followed", handler: http.RedirectHandler("https://example.invalid/", http.StatusTemporaryRedirect),
			wantStatus: 307, wantMessage: "<a href=\"https://example.invalid/\">Temporary Redirect</a>."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFixture(t)
			srv.SetHandler(tt.handler)
			_, err := c.List(t.Context(), "", "")
			apiErr, ok := errors.AsType[*client.APIError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want *client.APIError", err, err)
			}
			if apiErr.StatusCode != tt.wantStatus || apiErr.Message != tt.wantMessage || apiErr.RetryAfter != tt.wantRetryAfter {
				t.Errorf("APIError = {%d %q %s}, want {%d %q %s}", apiErr.StatusCode, apiErr.Message, apiErr.RetryAfter,
					tt.wantStatus, tt.wantMessage, tt.wantRetryAfter)
			}
			if apiErr.Method != http.MethodGet || apiErr.URL != srv.URL+"/api/v1/deployments" {
				t.Errorf("APIError names %s %s", apiErr.Method, apiErr.URL)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.Handler
		want       client.Health
		wantStatus int
	}{
		{name: "healthy", handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"status":"healthy","kubernetes":"connected"}`))
		}), want: client.Health{Status: "healthy", Kubernetes: "connected"}},
		{name: "unhealthy", handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unhealthy","kubernetes":"disconnected","error":"watch failed"}`))
		}), want: client.Health{Status: "unhealthy", Kubernetes: "disconnected", Error: "watch failed"}, wantStatus: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFixture(t)
			srv.SetHandler(tt.handler)
			got, err := c.Health(t.Context())
			if got != tt.want || client.StatusCode(err) != tt.wantStatus {
				t.Errorf("Health = %+v, %v; want %+v with status %d", got, err, tt.want, tt.wantStatus)
			}
			if (err == nil) != (tt.wantStatus == 0) {
				t.Errorf("err = %v", err)
			}
			if p := lastRequest(t, srv).Path; p != "/api/v1/health" {
				t.Errorf("path = %s", p)
			}
		})
	}
}

func TestCanceledContextIsNotAConnectionError(t *testing.T) {
	_, c := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.List(ctx, "", "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, ok := errors.AsType[*client.ConnectionError](err); ok {
		t.Errorf("err = %v is a ConnectionError; the caller canceled", err)
	}
}

func TestQuoteETagAndResourceVersion(t *testing.T) {
	tests := []struct{ name, in, quoted, rv string }{
		{name: "bare", in: "42", quoted: `"42"`, rv: "42"},
		{name: "quoted", in: `"42"`, quoted: `"42"`, rv: "42"},
		{name: "lone quote", in: `"`, quoted: `"""`, rv: `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := client.QuoteETag(tt.in); got != tt.quoted {
				t.Errorf("QuoteETag(%s) = %s, want %s", tt.in, got, tt.quoted)
			}
			if got := client.ResourceVersion(tt.in); got != tt.rv {
				t.Errorf("ResourceVersion(%s) = %s, want %s", tt.in, got, tt.rv)
			}
		})
	}
}
