package api

import (
	"net/http"

	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/identity"
)

// errNoIdentity refuses a request that reached the handler without a
// verified identity while a policy is configured: only a wiring mistake
// (no identity.Middleware) gets here, and it must fail closed.
var errNoIdentity = &requestError{
	status: http.StatusForbidden,
	msg:    "the request carries no verified client identity, so the authorization policy cannot allow it",
}

// authorize checks that the client may perform verb on the deployment name
// in namespace (see Authorizer.Authorize). Handlers call it before touching
// the cache, so that a forbidden deployment answers 403 whether or not it
// exists.
func (s *server) authorize(r *http.Request, verb, namespace, name string) error {
	if s.authz == nil {
		return nil
	}
	id, ok := identity.From(r.Context())
	if !ok {
		return errNoIdentity
	}
	return s.authz.Authorize(id, verb, namespace, name)
}

// authorizeReplicas checks the per-rule maxReplicas of a scale.
func (s *server) authorizeReplicas(r *http.Request, namespace, name string, replicas int32) error {
	if s.authz == nil {
		return nil
	}
	id, ok := identity.From(r.Context())
	if !ok {
		return errNoIdentity
	}
	return s.authz.AuthorizeReplicas(id, namespace, name, replicas)
}

// visible returns the deployments of a list of namespace the client may
// see. ds is not modified: the Store may share it.
func (s *server) visible(r *http.Request, namespace string, ds []*deployments.Deployment) []*deployments.Deployment {
	if s.authz == nil {
		return ds
	}
	id, _ := identity.From(r.Context()) // authorize already refused a request without one
	keep := s.authz.ListFilter(id, namespace)
	if keep == nil {
		return ds
	}
	out := make([]*deployments.Deployment, 0, len(ds))
	for _, d := range ds {
		if keep(d.Namespace, d.Name) {
			out = append(out, d)
		}
	}
	return out
}
