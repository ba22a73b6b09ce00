package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
)

// routeQueryParams lists, per route, the query parameters it defines; the
// router refuses any other with 400 (checkQuery). Ignoring one would do
// something other than what the client asked: PUT ?dryRun=All would
// write, ?limit=50 would return everything. A feature that adds a
// parameter adds it here. HEAD shares its GET route's entry.
var routeQueryParams = map[string][]string{
	RouteListDeployments:           {paramNamespace, paramLabelSelector, paramMinResourceVersion},
	RouteListNamespacedDeployments: {paramNamespace, paramLabelSelector, paramMinResourceVersion},
	RouteGetReplicas:               {paramNamespace, paramMinResourceVersion},
	RouteGetNamespacedReplicas:     {paramNamespace, paramMinResourceVersion},
	RoutePutReplicas:               {paramNamespace},
	RoutePutNamespacedReplicas:     {paramNamespace},
	RouteHealth:                    nil,
	RouteOpenAPI:                   nil,
}

// checkQuery is the router middleware that refuses query parameters the
// route does not define (see routeQueryParams), and a malformed query
// string, before any handler work. The 405 routes are left alone: the
// method is the first thing wrong there.
func (s *server) checkQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			if err := checkQueryParams(r); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkQueryParams returns a 400 naming every parameter of r's query that
// its route does not define, in sorted order, with those it does.
func checkQueryParams(r *http.Request) error {
	route := mux.CurrentRoute(r)
	if route == nil || strings.HasPrefix(route.GetName(), MethodNotAllowedRoutePrefix) {
		return nil
	}
	q, err := query(r)
	if err != nil {
		return err
	}
	allowed := routeQueryParams[route.GetName()]
	var unknown []string
	for key := range q {
		if !slices.Contains(allowed, key) {
			unknown = append(unknown, strconv.Quote(key))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	takes := method + " on this path takes no query parameters"
	if len(allowed) > 0 {
		takes = method + " on this path takes: " + strings.Join(allowed, ", ")
	}
	noun := "parameter"
	if len(unknown) > 1 {
		noun = "parameters"
	}
	return badRequest("unknown query %s %s; %s", noun, strings.Join(unknown, ", "), takes)
}
