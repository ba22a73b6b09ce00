package api

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/requestinfo"
)

// routeVerbs maps route names to the verbs of audit events and
// authorization rules.
var routeVerbs = map[string]string{
	RouteListDeployments:           requestinfo.VerbList,
	RouteListNamespacedDeployments: requestinfo.VerbList,
	RouteGetReplicas:               requestinfo.VerbGet,
	RouteGetNamespacedReplicas:     requestinfo.VerbGet,
	RoutePutReplicas:               requestinfo.VerbScale,
	RoutePutNamespacedReplicas:     requestinfo.VerbScale,
	RouteHealth:                    requestinfo.VerbHealth,
}

// describe runs before any router middleware that can refuse: it fills the request's
// requestinfo.Info with the route's path template, and the verb and target
// read off the route, before any other middleware can refuse the request,
// so that a 403 or a 429 is still counted and audited with what was asked
// for. The values are as the client sent them;
// the handlers validate them and overwrite them with the resolved ones.
func (s *server) describe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestinfo.From(r.Context())
		route := mux.CurrentRoute(r)
		if info == nil || route == nil {
			next.ServeHTTP(w, r)
			return
		}
		name := route.GetName()
		info.Route = PathTemplate(name)
		info.Verb = routeVerbs[name]
		vars := mux.Vars(r)
		info.Name = vars["name"]
		info.Namespace = vars["namespace"]
		if info.Namespace == "" && info.Verb != requestinfo.VerbHealth && r.URL.RawQuery != "" {
			info.Namespace = r.URL.Query().Get(paramNamespace)
		}
		if info.Namespace == "" && info.Name != "" {
			info.Namespace = s.defaultNS
		}
		next.ServeHTTP(w, r)
	})
}

// recordScale puts a Scale call's before and after state into the request's
// Info. After a failed call only what was read before it failed is known.
// recordRequested records the count a PUT asked for in the request's Info,
// for its audit event: replicas when the body decoded, else the integer an
// out-of-range refusal carries; nothing when the body held no integer.
func recordRequested(r *http.Request, replicas int32, err error) {
	var oor *countOutOfRange
	switch {
	case err == nil:
		n := int64(replicas)
		requestinfo.FromRequest(r).ReplicasRequested = &n
	case errors.As(err, &oor):
		n := oor.requested
		requestinfo.FromRequest(r).ReplicasRequested = &n
	}
}

func recordScale(r *http.Request, namespace, name string, res deployments.ScaleResult, err error) {
	info := requestinfo.FromRequest(r)
	info.Namespace, info.Name = namespace, name
	if res.PreviousResourceVersion != "" {
		before := res.PreviousReplicas
		info.ReplicasBefore = &before
		info.ResourceVersionBefore = res.PreviousResourceVersion
	}
	if err != nil {
		return
	}
	after := res.Replicas
	info.ReplicasAfter = &after
	info.ResourceVersionAfter = res.ResourceVersion
	info.Changed = res.Changed
}
