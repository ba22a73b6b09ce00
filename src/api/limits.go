package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/replicasd/replicasd/src/identity"
)

// limit is the router middleware that applies the in-flight bounds and the
// per-identity rate limits, before any handler work. The identity's
// in-flight cap comes first, so that requests it refuses take no slot of
// the process's bound; both cover every route but /health, which has its
// own bound so that probes are answered while the API is full. Writes
// (PUT) take from the write limiter; /health is exempt from the
// per-identity limits, so probes and dashboards are never throttled; every
// other route, 405s included, takes from the read limiter.
func (s *server) limit(next http.Handler) http.Handler {
	if s.inflight == nil && s.clientInflight == nil && s.healthInflight == nil &&
		s.writeLimiter == nil && s.readLimiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := s.acquire(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer release()
		if lim := s.rateLimiterFor(r); lim != nil {
			if err := lim.Allow(clientKey(r)); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// acquire takes the request's in-flight slots and returns the function
// that gives them back.
func (s *server) acquire(r *http.Request) (release func(), err error) {
	if isHealth(r) {
		return acquireFrom(s.healthInflight)
	}
	releaseClient := noop
	if s.clientInflight != nil {
		if releaseClient, err = s.clientInflight.Acquire(clientKey(r)); err != nil {
			return nil, err
		}
	}
	releaseServer, err := acquireFrom(s.inflight)
	if err != nil {
		releaseClient()
		return nil, err
	}
	if s.clientInflight == nil {
		return releaseServer, nil
	}
	return func() { releaseServer(); releaseClient() }, nil
}

// acquireFrom takes a slot of l; a nil l has room for everything.
func acquireFrom(l InflightLimiter) (release func(), err error) {
	if l == nil {
		return noop, nil
	}
	return l.Acquire()
}

func noop() {}

// isHealth reports whether r is routed to GET /health.
func isHealth(r *http.Request) bool {
	route := mux.CurrentRoute(r)
	return route != nil && route.GetName() == RouteHealth
}

// rateLimiterFor picks the limiter of the request's route, nil for none.
func (s *server) rateLimiterFor(r *http.Request) RateLimiter {
	var name string
	if route := mux.CurrentRoute(r); route != nil {
		name = route.GetName()
	}
	switch {
	case name == RoutePutReplicas || name == RoutePutNamespacedReplicas:
		return s.writeLimiter
	case name == RouteHealth:
		return nil
	case name != "": // reads, and the 405 routes (MethodNotAllowedRoutePrefix)
		return s.readLimiter
	}
	return nil
}

// clientKey is the identity a request is limited as: the certificate's
// subject, so every certificate of one user and groups shares a bucket.
func clientKey(r *http.Request) string {
	key, _ := identity.Key(r.Context())
	return key
}
