package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/replicasd/replicasd/src/tlsconfig"
)

// limit is the router middleware that applies the in-flight bound and the
// per-identity rate limits, before any handler work. The in-flight bound
// covers every route; writes (PUT) take from the write limiter; /health is
// exempt from the per-identity limits, so probes and dashboards are never
// throttled; every other route, 405s included, takes from the read limiter.
func (s *server) limit(next http.Handler) http.Handler {
	if s.inflight == nil && s.writeLimiter == nil && s.readLimiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.inflight != nil {
			release, err := s.inflight.Acquire()
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			defer release()
		}
		if lim := s.rateLimiterFor(r); lim != nil {
			if err := lim.Allow(clientKey(r)); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
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
	if id, ok := tlsconfig.IdentityFrom(r.Context()); ok {
		return id.String()
	}
	return ""
}
