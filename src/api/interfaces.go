package api

import (
	"context"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/identity"
)

// Store answers reads from the informer cache (never the Kubernetes API).
type Store interface {
	// Get returns the cached Deployment, or an error of kind
	// deployments.ErrNotFound when it is absent or its namespace is not
	// watched.
	Get(namespace, name string) (*deployments.Deployment, error)
	// List returns the cached Deployments matching selector in namespace
	// ("" = all namespaces), sorted by namespace then name.
	List(namespace string, selector labels.Selector) ([]*deployments.Deployment, error)
	// WaitForNamespaceResourceVersion returns once the cache serving
	// namespace ("" = every watched namespace) has seen rv, or an error
	// (deployments.ErrResourceVersionTimeout, ErrInvalid, ...) when ctx ends
	// first or rv is malformed. Waiting on one namespace matters with several
	// --namespace informers: a quiet one only advances with bookmarks.
	WaitForNamespaceResourceVersion(ctx context.Context, namespace, rv string) error
}

// Scaler writes through the scale subresource.
type Scaler interface {
	// Scale sets spec.replicas. A non-empty ifMatch is the resourceVersion
	// the Deployment must still have (else deployments.ErrPreconditionFailed).
	Scale(ctx context.Context, namespace, name string, replicas int32, ifMatch deployments.IfMatch) (deployments.ScaleResult, error)
}

// Authorizer decides what each verified client identity may do;
// *authz.Authorizer and *authz.Policy implement it. Refusals are errors
// matching authz.ErrForbidden (403), whose message is shown to the client.
type Authorizer interface {
	// Authorize returns nil when id may perform verb (requestinfo.VerbGet,
	// VerbList, VerbScale) on the deployment name in namespace. For a list,
	// name is "" and namespace "" means every namespace.
	Authorize(id identity.Identity, verb, namespace, name string) error
	// AuthorizeReplicas returns nil when id may scale the deployment to
	// replicas (the policy's per-rule maxReplicas).
	AuthorizeReplicas(id identity.Identity, namespace, name string, replicas int32) error
	// ListFilter returns which deployments of a list of namespace ("" =
	// all) id may see, or nil when it may see them all.
	ListFilter(id identity.Identity, namespace string) func(namespace, name string) bool
}

// RateLimiter throttles each client identity; *ratelimit.Limiter implements
// it. A refusal is a *ratelimit.Error (429 with Retry-After).
type RateLimiter interface {
	// Allow takes one request from key's budget.
	Allow(key string) error
}

// InflightLimiter bounds the requests served at once; *ratelimit.Inflight
// implements it. A refusal is a *ratelimit.Error (429 with Retry-After).
type InflightLimiter interface {
	// Acquire admits a request; release ends it.
	Acquire() (release func(), err error)
}

// ClientInflightLimiter bounds the requests each client identity has in
// flight; *ratelimit.ClientInflight implements it. A refusal is a
// *ratelimit.Error (429 with Retry-After).
type ClientInflightLimiter interface {
	// Acquire admits a request of identity key; release ends it.
	Acquire(key string) (release func(), err error)
}

// Health reports whether the Kubernetes API is reachable, from cached state.
type Health interface {
	// Check returns nil when healthy, else the reason.
	Check() error
}
