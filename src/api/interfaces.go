package api

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/replicasd/replicasd/src/deployments"
)

// Store answers reads from the informer cache (never the Kubernetes API).
type Store interface {
	// Get returns the cached Deployment, or an error of kind
	// deployments.ErrNotFound when it is absent or its namespace is not
	// watched.
	Get(namespace, name string) (*appsv1.Deployment, error)
	// List returns the cached Deployments matching selector in namespace
	// ("" = all namespaces), sorted by namespace then name.
	List(namespace string, selector labels.Selector) ([]*appsv1.Deployment, error)
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
	Scale(ctx context.Context, namespace, name string, replicas int32, ifMatch string) (deployments.ScaleResult, error)
}

// Health reports whether the Kubernetes API is reachable, from cached state.
type Health interface {
	// Check returns nil when healthy, else the reason.
	Check() error
}
