package deployments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// Sentinel kinds of error. Producers wrap them in an *Error with a message for
// people; the api package maps each kind to one HTTP status with errors.Is.
var (
	// ErrNotFound: the deployment does not exist, or its namespace is not
	// watched by this server (404).
	ErrNotFound = errors.New("not found")
	// ErrPreconditionFailed: an If-Match resourceVersion is stale (412).
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrNotSynced: the informer cache has not synced yet (503 + Retry-After).
	ErrNotSynced = errors.New("cache not synced")
	// ErrResourceVersionTimeout: the cache did not reach a requested
	// minResourceVersion within the bounded wait (504).
	ErrResourceVersionTimeout = errors.New("resource version not reached")
	// ErrResourceVersionTooLarge: a requested minResourceVersion is ahead
	// of the Kubernetes API itself, so no wait can reach it (504 +
	// Retry-After at once, as kube-apiserver answers "Too large resource
	// version").
	ErrResourceVersionTooLarge = errors.New("resource version too large")
	// ErrInvalid: a caller-supplied value is malformed (400), for example a
	// minResourceVersion that is not a resourceVersion.
	ErrInvalid = errors.New("invalid")
	// ErrKubeAPIUnavailable: the Kubernetes API did not answer a call made
	// for a request in time, or the connection to it failed before its
	// answer came (503 + Retry-After). The message says whether the write
	// may have been applied.
	ErrKubeAPIUnavailable = errors.New("kubernetes API unavailable")
)

// Error is an error with a message meant for API clients and a kind
// (one of the sentinels above) for mapping to a status code.
type Error struct {
	Kind    error
	Message string
	// Err, when set, is the cause: kept for errors.Is and the log, left
	// out of Message because it may name internal addresses.
	Err error
}

func (e *Error) Error() string { return e.Message }

// Unwrap lets errors.Is match the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// NotFound returns the error for a deployment that is absent from the cache
// or lives in a namespace this server does not watch.
func NotFound(namespace, name string) error {
	return &Error{Kind: ErrNotFound, Message: fmt.Sprintf("deployment %q not found in namespace %q", name, namespace)}
}

// NamespaceNotWatched returns the error for a namespace outside --namespace.
func NamespaceNotWatched(namespace string) error {
	return &Error{Kind: ErrNotFound, Message: fmt.Sprintf("namespace %q is not watched by this server", namespace)}
}

// PreconditionFailed returns the error for a stale If-Match.
func PreconditionFailed(namespace, name, want, have string) error {
	return &Error{Kind: ErrPreconditionFailed, Message: fmt.Sprintf(
		"deployment %q in namespace %q has resourceVersion %q, not %q from If-Match", name, namespace, have, want)}
}

// IfMatchFailed returns the error for an If-Match condition that the
// Deployment at resourceVersion have does not satisfy, explaining weak tags,
// which look right but never match.
func IfMatchFailed(namespace, name string, ifMatch IfMatch, have string) error {
	msg := fmt.Sprintf("deployment %q in namespace %q has resourceVersion %q, not %s from If-Match", name, namespace, have, ifMatch)
	if len(ifMatch.Weak) > 0 {
		msg += `; weak entity tags never match, as If-Match uses strong comparison (RFC 9110): send the ETag as the server gave it, "<resourceVersion>"`
	}
	return &Error{Kind: ErrPreconditionFailed, Message: msg}
}

// NotSynced returns the error served while the cache is still syncing.
func NotSynced() error {
	return &Error{Kind: ErrNotSynced, Message: "the deployment cache has not synced with the Kubernetes API yet"}
}

// ChangedSinceIfMatch returns the error for an If-Match that matched when it
// was checked but lost the race to another writer before the update landed:
// the version the client saw is gone, so the write must not be retried.
func ChangedSinceIfMatch(namespace, name, want string) error {
	return &Error{Kind: ErrPreconditionFailed, Message: fmt.Sprintf(
		"deployment %q in namespace %q was modified after resourceVersion %q from If-Match", name, namespace, want)}
}

// InvalidResourceVersion returns the error for a resourceVersion supplied by
// a caller (minResourceVersion, If-Match) that is not a non-negative integer.
func InvalidResourceVersion(rv string) error {
	return &Error{Kind: ErrInvalid, Message: fmt.Sprintf(
		"resourceVersion %q is not valid: it must be a non-negative integer (the value of an ETag without quotes)", rv)}
}

// ResourceVersionTimeout returns the error for a wait that ended before the
// cache reached resourceVersion want; have is what the cache had reached.
func ResourceVersionTimeout(want string, have uint64, waited time.Duration) error {
	return &Error{Kind: ErrResourceVersionTimeout, Message: fmt.Sprintf(
		"the deployment cache did not reach resourceVersion %s within %s (it has reached %d)",
		want, waited.Round(time.Millisecond), have)}
}

// OpScale is the scale operation, as PermissionError.Op.
const OpScale = "scale"

// opPermissions lists, per operation, every Kubernetes RBAC permission it
// needs of replicasd's own ServiceAccount, as "verbs on resource in group".
var opPermissions = map[string]string{
	OpScale: `verbs get and update on resource "deployments/scale" in API group "apps"`,
}

// PermissionError is a Forbidden answer of the Kubernetes API to a call
// made on behalf of operation Op in Namespace: replicasd itself lacks an
// RBAC permission. Kubernetes names only the first permission refused, so
// Needs names every one the operation needs, and an operator can grant
// them at once. It unwraps to the API error (apierrors.IsForbidden holds).
type PermissionError struct {
	Op        string
	Namespace string
	Err       error
}

func (e *PermissionError) Error() string { return e.Err.Error() }

// Unwrap returns the Kubernetes API error.
func (e *PermissionError) Unwrap() error { return e.Err }

// Needs describes every permission the operation needs, e.g. `scaling needs
// verbs get and update on resource "deployments/scale" in API group "apps"
// in namespace "default"`.
func (e *PermissionError) Needs() string {
	what := e.Op
	if e.Op == OpScale {
		what = "scaling"
	}
	return fmt.Sprintf("%s needs %s in namespace %q", what, opPermissions[e.Op], e.Namespace)
}

// ResourceVersionTooLarge returns the error for a wait on resourceVersion
// want that is ahead of current, the Kubernetes API's own resourceVersion.
// The message starts as kube-apiserver's does for the same case.
func ResourceVersionTooLarge(want string, current uint64) error {
	return &Error{Kind: ErrResourceVersionTooLarge, Message: fmt.Sprintf(
		"Too large resource version: %s, current: %d: nothing in the Kubernetes API has that resourceVersion yet",
		want, current)}
}

// KubeAPIUnavailable returns the error for a Kubernetes API call of a PUT
// that got no answer: its deadline ran out (timeout is then the deadline)
// or the connection failed (timeout 0). update says whether the call was
// the update, which may have reached the API server, so the message tells
// the client whether the write may have been applied.
func KubeAPIUnavailable(namespace, name string, update bool, timeout time.Duration, cause error) error {
	what, outcome := "reading", "nothing was written; try again later"
	if update {
		what, outcome = "updating", "the write may have been applied; GET to check"
	}
	failure := "the connection to the Kubernetes API failed"
	if timeout > 0 {
		failure = "the Kubernetes API did not answer within " + timeout.String()
	}
	return &Error{Kind: ErrKubeAPIUnavailable, Err: cause, Message: fmt.Sprintf(
		"%s while %s the scale of deployment %q in namespace %q: %s", failure, what, name, namespace, outcome)}
}

// IsNoAnswer reports an error of a Kubernetes API call that got no answer
// from the API server: dial and TLS errors (*url.Error and *net.OpError are
// net.Errors), resets, a closed connection, or a deadline.
func IsNoAnswer(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded)
}
