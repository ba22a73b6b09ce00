package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/replicasd/replicasd/src/authz"
	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/ratelimit"
	"github.com/replicasd/replicasd/src/requestinfo"
)

// retryAfterSeconds is the Retry-After sent with 503s that carry no better
// hint: long enough for a cache sync or an API server blip, short enough for
// scripts.
const retryAfterSeconds = 5

// conflictRetryAfterSeconds is the Retry-After of a write that met
// conflicts until its retries ran out: the other writers' burst is likely
// over within a second.
const conflictRetryAfterSeconds = 1

// tooLargeRetryAfterSeconds is the Retry-After of a minResourceVersion
// ahead of the Kubernetes API, kube-apiserver's own for that case.
const tooLargeRetryAfterSeconds = 1

// statusClientClosedRequest is nginx's code for a client that went away
// before the answer; nobody reads the body, but access logs and metrics see
// the status.
const statusClientClosedRequest = 499

// requestError is an error this package detected itself, with its status and
// a message for the client.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

// badRequest returns a 400 requestError.
func badRequest(format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// errorBody is the error envelope of the contract.
type errorBody struct {
	Error string `json:"error"`
}

// writeError is the one place that turns an error into a response: status,
// Retry-After, the envelope, and one log line for server-side (5xx) errors.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, retryAfter := classify(r, err)
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	if status >= 500 {
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", status, "error", err}
		// The client's message leaves out what only operators need (the
		// API server's address, the transport error); the log has it.
		var de *deployments.Error
		if errors.As(err, &de) && de.Err != nil {
			attrs = append(attrs, "cause", de.Err.Error())
		}
		s.log.Error("request failed", attrs...)
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	// For the metrics and audit middleware.
	info := requestinfo.FromRequest(r)
	info.Status, info.Reason = status, msg
	writeJSON(w, status, errorBody{Error: msg})
}

// classify maps an error to a status code, a client-facing message and a
// Retry-After in seconds (0 = none). Messages of errors built for clients
// (requestError, deployments.Error, Kubernetes Status) are passed on;
// transport and unknown errors get a fixed message, their detail goes to the
// log only.
func classify(r *http.Request, err error) (status int, msg string, retryAfter int) {
	var re *requestError
	if errors.As(err, &re) {
		return re.status, re.msg, 0
	}
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		return statusClientClosedRequest, "the client closed the request", 0
	}
	// Over a limit: Retry-After is when the limiter will have room again.
	var limited *ratelimit.Error
	if errors.As(err, &limited) {
		return http.StatusTooManyRequests, limited.Error(), limited.RetryAfterSeconds()
	}

	switch {
	case errors.Is(err, authz.ErrForbidden):
		return http.StatusForbidden, err.Error(), 0
	case errors.Is(err, deployments.ErrNotFound):
		return http.StatusNotFound, err.Error(), 0
	case errors.Is(err, deployments.ErrInvalid):
		return http.StatusBadRequest, err.Error(), 0
	case errors.Is(err, deployments.ErrPreconditionFailed):
		return http.StatusPreconditionFailed, err.Error(), 0
	case errors.Is(err, deployments.ErrNotSynced):
		return http.StatusServiceUnavailable, err.Error(), retryAfterSeconds
	case errors.Is(err, deployments.ErrResourceVersionTimeout):
		return http.StatusGatewayTimeout, err.Error(), 0
	case errors.Is(err, deployments.ErrResourceVersionTooLarge):
		// kube-apiserver's answer to a list ahead of its storage: 504
		// "Too large resource version" with Retry-After 1.
		return http.StatusGatewayTimeout, err.Error(), tooLargeRetryAfterSeconds
	case errors.Is(err, deployments.ErrKubeAPIUnavailable):
		// No answer from Kubernetes in time, or the connection broke: the
		// contract's "unreachable for a write". The message says whether
		// the write may have been applied.
		return http.StatusServiceUnavailable, err.Error(), retryAfterSeconds
	}

	// The Kubernetes API answered. The apierrors predicates unwrap with
	// errors.As, so wrapped StatusErrors are recognised too.
	var apiStatus apierrors.APIStatus
	if errors.As(err, &apiStatus) {
		code := apiStatus.Status().Code
		kmsg := apiStatus.Status().Message
		switch {
		case apierrors.IsNotFound(err):
			return http.StatusNotFound, kmsg, 0
		case apierrors.IsForbidden(err):
			// Our clients are authorised by our own policy; a Forbidden from
			// Kubernetes means replicasd's ServiceAccount lacks a permission,
			// which is the operator's problem, not the client's.
			msg := "replicasd is not permitted by Kubernetes RBAC: " + kmsg
			if perm, ok := errors.AsType[*deployments.PermissionError](err); ok {
				msg += "; " + perm.Needs()
			}
			return http.StatusInternalServerError, msg, 0
		case apierrors.IsUnauthorized(err):
			return http.StatusInternalServerError, "the Kubernetes API rejected replicasd's credentials: " + kmsg, 0
		case apierrors.IsConflict(err):
			// Conflicts are retried, and met at all only without If-Match
			// (with it they are 412s), so this is another writer changing the
			// Deployment faster than the retries: a transient state, worth
			// retrying soon, not a conflict the client must resolve (409).
			return http.StatusServiceUnavailable,
				"the Deployment kept changing while replicasd scaled it, so nothing was written; retry: " + kmsg, conflictRetryAfterSeconds
		case apierrors.IsInvalid(err):
			// Our own validation passed, so this is Kubernetes (validation or
			// an admission policy) refusing the value.
			return http.StatusBadRequest, "Kubernetes rejected the change: " + kmsg, 0
		case apierrors.IsTooManyRequests(err):
			delay, ok := apierrors.SuggestsClientDelay(err)
			if !ok || delay <= 0 {
				delay = retryAfterSeconds
			}
			return http.StatusServiceUnavailable, "the Kubernetes API is overloaded; try again later", delay
		case code >= 500 || apierrors.IsInternalError(err) || apierrors.IsServerTimeout(err) ||
			apierrors.IsServiceUnavailable(err) || apierrors.IsTimeout(err):
			return http.StatusBadGateway, "the Kubernetes API answered with a server error: " + kmsg, 0
		}
		return http.StatusInternalServerError, "unexpected answer from the Kubernetes API: " + kmsg, 0
	}

	if deployments.IsNoAnswer(err) {
		return http.StatusServiceUnavailable, "the Kubernetes API is unreachable; try again later", retryAfterSeconds
	}
	return http.StatusInternalServerError, "internal server error", 0
}
