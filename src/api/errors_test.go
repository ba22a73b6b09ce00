package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/replicasd/replicasd/src/deployments"
)

func TestErrorMapping(t *testing.T) {
	scaleGR := schema.GroupResource{Group: "apps", Resource: "deployments/scale"}
	deployGR := schema.GroupResource{Group: "apps", Resource: "deployments"}
	forbidden := apierrors.NewForbidden(scaleGR, "web", errors.New(
		`User "system:serviceaccount:replicasd:replicasd" cannot update resource "deployments/scale" in API group "apps" in the namespace "default"`))
	refused := &url.Error{Op: "Put", URL: "https://10.0.0.1:443/apis/apps/v1/namespaces/default/deployments/web/scale",
		Err: &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("connect: %w", syscall.ECONNREFUSED)}}

	tests := []struct {
		name       string
		storeErr   error // served on GET one and LIST
		scaleErr   error // served on PUT
		status     int
		want       []string
		notWant    string
		retryAfter string
	}{
		{name: "deployment not found", storeErr: deployments.NotFound("default", "web"), status: http.StatusNotFound,
			want: []string{`deployment "web" not found in namespace "default"`}},
		{name: "namespace not watched", storeErr: deployments.NamespaceNotWatched("other"), status: http.StatusNotFound,
			want: []string{`namespace "other" is not watched by this server`}},
		{name: "cache not synced on read", storeErr: deployments.NotSynced(), status: http.StatusServiceUnavailable,
			want: []string{"has not synced"}, retryAfter: "5"},
		{name: "cache not synced on write", scaleErr: deployments.NotSynced(), status: http.StatusServiceUnavailable,
			want: []string{"has not synced"}, retryAfter: "5"},
		{name: "stale If-Match", scaleErr: deployments.PreconditionFailed("default", "web", "99", "100"), status: http.StatusPreconditionFailed,
			want: []string{`has resourceVersion "100", not "99"`}},
		{name: "wrapped kind", scaleErr: fmt.Errorf("scaling default/web: %w", deployments.ErrInvalid), status: http.StatusBadRequest,
			want: []string{"scaling default/web: invalid"}},
		{name: "kubernetes not found", scaleErr: apierrors.NewNotFound(deployGR, "web"), status: http.StatusNotFound,
			want: []string{`deployments.apps "web" not found`}},
		{name: "kubernetes forbidden names the permission", scaleErr: forbidden, status: http.StatusInternalServerError,
			want: []string{"replicasd is not permitted by Kubernetes RBAC", `cannot update resource "deployments/scale"`, `in the namespace "default"`}},
		{name: "wrapped forbidden", scaleErr: fmt.Errorf("scale: %w", forbidden), status: http.StatusInternalServerError,
			want: []string{"not permitted by Kubernetes RBAC", `cannot update resource "deployments/scale"`}},
		{name: "kubernetes unauthorized", scaleErr: apierrors.NewUnauthorized("token expired"), status: http.StatusInternalServerError,
			want: []string{"rejected replicasd's credentials", "token expired"}},
		{name: "kubernetes conflict after the retries is a 503 to retry", scaleErr: fmt.Errorf("still conflicting after 5 attempts: %w",
			apierrors.NewConflict(scaleGR, "web", errors.New("the object has been modified"))), status: http.StatusServiceUnavailable,
			want: []string{"the Deployment kept changing", "nothing was written", "retry", "the object has been modified"}, retryAfter: "1"},
		{name: "forbidden scale names every permission it needs", scaleErr: &deployments.PermissionError{Namespace: "default", Op: deployments.OpScale,
			Err: fmt.Errorf("get deployments.apps/scale: %w", apierrors.NewForbidden(scaleGR, "web", errors.New(
				`User "system:serviceaccount:replicasd:replicasd" cannot get resource "deployments/scale" in API group "apps" in the namespace "default"`)))},
			status: http.StatusInternalServerError,
			want: []string{"not permitted by Kubernetes RBAC", `cannot get resource "deployments/scale"`,
				`scaling needs verbs get and update on resource "deployments/scale" in API group "apps" in namespace "default"`}},
		{name: "kubernetes invalid", scaleErr: apierrors.NewInvalid(schema.GroupKind{Group: "autoscaling", Kind: "Scale"}, "web", nil), status: http.StatusBadRequest,
			want: []string{"Kubernetes rejected the change"}},
		{name: "kubernetes internal error", scaleErr: apierrors.NewInternalError(errors.New("etcd leader changed")), status: http.StatusBadGateway,
			want: []string{"Kubernetes API answered with a server error", "etcd leader changed"}},
		{name: "kubernetes service unavailable", scaleErr: apierrors.NewServiceUnavailable("apiserver is shutting down"), status: http.StatusBadGateway,
			want: []string{"server error", "shutting down"}},
		{name: "kubernetes server timeout", scaleErr: apierrors.NewServerTimeout(scaleGR, "update", 2), status: http.StatusBadGateway,
			want: []string{"server error"}},
		{name: "kubernetes timeout", scaleErr: apierrors.NewTimeoutError("request did not complete", 0), status: http.StatusBadGateway,
			want: []string{"server error", "did not complete"}},
		{name: "kubernetes bad gateway", scaleErr: apierrors.NewGenericServerResponse(502, "PUT", scaleGR, "web", "upstream", 0, true), status: http.StatusBadGateway,
			want: []string{"server error"}},
		{name: "kubernetes too many requests with delay", scaleErr: apierrors.NewTooManyRequests("slow down", 7), status: http.StatusServiceUnavailable,
			want: []string{"overloaded"}, retryAfter: "7"},
		{name: "kubernetes too many requests without delay", scaleErr: apierrors.NewTooManyRequestsError("slow down"), status: http.StatusServiceUnavailable,
			want: []string{"overloaded"}, retryAfter: "5"},
		{name: "connection refused", scaleErr: refused, status: http.StatusServiceUnavailable,
			want: []string{"Kubernetes API is unreachable"}, notWant: "10.0.0.1", retryAfter: "5"},
		{name: "bare ECONNREFUSED", scaleErr: fmt.Errorf("put: %w", syscall.ECONNREFUSED), status: http.StatusServiceUnavailable,
			want: []string{"unreachable"}, retryAfter: "5"},
		{name: "connection reset", scaleErr: fmt.Errorf("put: %w", syscall.ECONNRESET), status: http.StatusServiceUnavailable,
			want: []string{"unreachable"}, retryAfter: "5"},
		{name: "EOF", scaleErr: fmt.Errorf("put: %w", io.EOF), status: http.StatusServiceUnavailable,
			want: []string{"unreachable"}, retryAfter: "5"},
		{name: "unexpected EOF", scaleErr: io.ErrUnexpectedEOF, status: http.StatusServiceUnavailable,
			want: []string{"unreachable"}, retryAfter: "5"},
		{name: "client deadline", scaleErr: fmt.Errorf("put: %w", context.DeadlineExceeded), status: http.StatusServiceUnavailable,
			want: []string{"unreachable"}, retryAfter: "5"},
		{name: "kubernetes API did not answer the update in time", status: http.StatusServiceUnavailable,
			scaleErr: deployments.KubeAPIUnavailable("default", "web", true, 10*time.Second, &url.Error{Op: "Put", URL: "https://10.0.0.1:443/", Err: context.DeadlineExceeded}),
			want:     []string{"did not answer within 10s while updating", "the write may have been applied; GET to check"}, notWant: "10.0.0.1", retryAfter: "5"},
		{name: "connection to the kubernetes API failed on the read", status: http.StatusServiceUnavailable,
			scaleErr: deployments.KubeAPIUnavailable("default", "web", false, 0, refused),
			want:     []string{"connection to the Kubernetes API failed while reading", "nothing was written"}, notWant: "10.0.0.1", retryAfter: "5"},
		{name: "unknown error", scaleErr: errors.New("secret internal detail"), status: http.StatusInternalServerError,
			want: []string{"internal server error"}, notWant: "secret internal detail"},
		{name: "canceled while the client is still there", scaleErr: context.Canceled, status: http.StatusInternalServerError,
			want: []string{"internal server error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []*httptest.ResponseRecorder
			f := newFixture(t)
			if tt.storeErr != nil {
				f.store.err = tt.storeErr
				recs = append(recs,
					f.request(http.MethodGet, "/api/v1/deployments/web/replicas", ""),
					f.request(http.MethodGet, "/api/v1/deployments", ""))
			}
			if tt.scaleErr != nil {
				f.scaler.err = tt.scaleErr
				recs = append(recs, f.put("/api/v1/deployments/web/replicas", `{"replicaCount":3}`))
			}
			for _, rec := range recs {
				msg := checkError(t, rec, tt.status, tt.want...)
				if tt.notWant != "" && strings.Contains(msg, tt.notWant) {
					t.Errorf("message %q leaks %q", msg, tt.notWant)
				}
				if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
					t.Errorf("Retry-After = %q, want %q", got, tt.retryAfter)
				}
				if rec.Header().Get("ETag") != "" {
					t.Errorf("error response has an ETag")
				}
			}
			logged := strings.Count(f.logs.String(), "request failed")
			wantLogged := 0
			if tt.status >= 500 {
				wantLogged = len(recs)
			}
			if logged != wantLogged {
				t.Errorf("logged %d server errors, want %d; log:\n%s", logged, wantLogged, f.logs)
			}
			if wantLogged > 0 && !strings.Contains(f.logs.String(), "path=/api/v1/deployments") {
				t.Errorf("log lacks the path:\n%s", f.logs)
			}
		})
	}
}

func TestClientGone(t *testing.T) {
	f := newFixture(t)
	f.scaler.err = context.Canceled
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest(http.MethodPut, "/api/v1/deployments/web/replicas", strings.NewReader(`{"replicaCount":3}`)).WithContext(ctx)
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, r)
	checkError(t, rec, statusClientClosedRequest, "closed the request")
	if strings.Contains(f.logs.String(), "request failed") {
		t.Errorf("a client going away was logged as a server error:\n%s", f.logs)
	}
}

// TestUnavailableCauseIsLogged: what the client's message leaves out (the
// API server's address, the transport error) is in the log line.
func TestUnavailableCauseIsLogged(t *testing.T) {
	f := newFixture(t)
	f.scaler.err = deployments.KubeAPIUnavailable("default", "web", true, 0,
		&url.Error{Op: "Put", URL: "https://10.0.0.1:443/", Err: syscall.ECONNRESET})
	checkError(t, f.put("/api/v1/deployments/web/replicas", `{"replicaCount":3}`), http.StatusServiceUnavailable, "may have been applied")
	if !strings.Contains(f.logs.String(), "cause=") || !strings.Contains(f.logs.String(), "10.0.0.1") ||
		!strings.Contains(f.logs.String(), "connection reset by peer") {
		t.Errorf("log lacks the cause:\n%s", f.logs)
	}
}
