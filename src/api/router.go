package api

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// Route names, one per endpoint, as given to mux (mux.CurrentRoute(r).GetName()).
// Middleware such as authorization can key on them; metrics should label by
// the path template instead (PathTemplate, or requestinfo.Info.Route).
const (
	RouteListDeployments           = "listDeployments"
	RouteListNamespacedDeployments = "listNamespacedDeployments"
	RouteGetReplicas               = "getReplicas"
	RouteGetNamespacedReplicas     = "getNamespacedReplicas"
	RoutePutReplicas               = "putReplicas"
	RoutePutNamespacedReplicas     = "putNamespacedReplicas"
	RouteHealth                    = "health"
	RouteOpenAPI                   = "getOpenAPI"
)

// MethodNotAllowedRoutePrefix starts the name of each path's catch-all route,
// which answers 405 for methods the path does not serve; the rest of the name
// is the path template. Middleware should let these routes through.
const MethodNotAllowedRoutePrefix = "methodNotAllowed:"

// Path templates of the endpoints.
const (
	PathDeployments           = "/api/v1/deployments"
	PathNamespacedDeployments = "/api/v1/namespaces/{namespace}/deployments"
	PathReplicas              = "/api/v1/deployments/{name}/replicas"
	PathNamespacedReplicas    = "/api/v1/namespaces/{namespace}/deployments/{name}/replicas"
	PathHealth                = "/api/v1/health"
	PathOpenAPI               = "/api/v1/openapi.yaml"
)

// Route describes one endpoint.
type Route struct {
	Name   string // one of the Route* constants
	Method string
	Path   string // mux path template
}

// Routes returns every endpoint in registration order.
func Routes() []Route {
	return []Route{
		{RouteListDeployments, http.MethodGet, PathDeployments},
		{RouteListNamespacedDeployments, http.MethodGet, PathNamespacedDeployments},
		{RouteGetReplicas, http.MethodGet, PathReplicas},
		{RoutePutReplicas, http.MethodPut, PathReplicas},
		{RouteGetNamespacedReplicas, http.MethodGet, PathNamespacedReplicas},
		{RoutePutNamespacedReplicas, http.MethodPut, PathNamespacedReplicas},
		{RouteHealth, http.MethodGet, PathHealth},
		{RouteOpenAPI, http.MethodGet, PathOpenAPI},
	}
}

// router builds the mux router. Each path gets its method routes followed by
// a catch-all route for the same path that answers 405 with that path's
// Allow header: mux's own MethodNotAllowedHandler does not know which methods
// a path serves.
func (s *server) router() *mux.Router {
	handlers := map[string]http.HandlerFunc{
		RouteListDeployments:           s.listDeployments,
		RouteListNamespacedDeployments: s.listDeployments,
		RouteGetReplicas:               s.getReplicas,
		RouteGetNamespacedReplicas:     s.getReplicas,
		RoutePutReplicas:               s.putReplicas,
		RoutePutNamespacedReplicas:     s.putReplicas,
		RouteHealth:                    s.getHealth,
		RouteOpenAPI:                   s.getOpenAPI,
	}

	r := mux.NewRouter()
	// Unclean paths ("//", "/./", "/../") are not ours: answer 404 instead of
	// mux's default 301 redirect, which would turn a PUT into a GET for some
	// clients. Matching uses the decoded path, so an encoded slash inside a
	// name ("a%2Fb") becomes an extra segment and also gets 404; a trailing
	// slash is likewise 404.
	r.SkipClean(true)
	r.NotFoundHandler = http.HandlerFunc(s.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(s.notFound) // unreachable: every path has a catch-all
	// HEAD answers as GET without the body, whatever answers it: a handler,
	// a middleware's refusal, or the 404 of an unknown path (which the
	// router's middleware does not see, hence the explicit wrap).
	r.NotFoundHandler = headless(r.NotFoundHandler)
	r.Use(headless)
	// Then, so that what callers add with Use (authorization, rate limits)
	// finds the verb and target in the Info.
	r.Use(s.describe)
	// Then the in-flight bound and the per-identity rate limits, before any
	// handler work; authorization is in the handlers, which resolve the
	// target namespace first.
	r.Use(s.limit)
	// Then the query parameters: one the route does not define is refused
	// before the handler could ignore it.
	r.Use(s.checkQuery)

	var order []string
	methods := map[string][]string{}
	for _, rt := range Routes() {
		if _, seen := methods[rt.Path]; !seen {
			order = append(order, rt.Path)
		}
		methods[rt.Path] = append(methods[rt.Path], routeMethods(rt.Method)...)
	}
	for _, path := range order {
		for _, rt := range Routes() {
			if rt.Path == path {
				matchPath(r.NewRoute(), rt.Path).Methods(routeMethods(rt.Method)...).Name(rt.Name).HandlerFunc(handlers[rt.Name])
			}
		}
		allow := strings.Join(methods[path], ", ")
		matchPath(r.NewRoute(), path).Name(MethodNotAllowedRoutePrefix + path).HandlerFunc(s.methodNotAllowed(allow))
	}
	return r
}

// routeMethods returns the methods a route of method answers: a GET route
// answers HEAD too (RFC 9110 9.3.2), under the same name, so that limits,
// authorization, audit and metrics treat a HEAD as the GET it mirrors.
func routeMethods(method string) []string {
	if method == http.MethodGet {
		return []string{http.MethodGet, http.MethodHead}
	}
	return []string{method}
}

// headless serves a HEAD with next, dropping the body: the status and
// headers, Content-Length and ETag included, stay what a GET gets. net/http
// drops the body of a HEAD answer itself; doing it here as well keeps
// handlers honest wherever they run (tests, middleware that copy bodies).
func headless(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w = headResponseWriter{w}
		}
		next.ServeHTTP(w, r)
	})
}

// headResponseWriter discards what is written as the body.
type headResponseWriter struct{ http.ResponseWriter }

func (w headResponseWriter) Write(p []byte) (int, error) { return len(p), nil }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w headResponseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// matchPath makes route match the path template: with pathMatcher, or
// with mux's own Path for a template it cannot take.
func matchPath(route *mux.Route, template string) *mux.Route {
	if m := pathMatcher(template); m != nil {
		return route.MatcherFunc(m)
	}
	return route.Path(template)
}

// PathTemplate returns the path template of the route named name (one of
// the Route* constants, or a MethodNotAllowedRoutePrefix name), "" for
// another name. The routes match without mux's Path, so
// mux.CurrentRoute(r).GetPathTemplate() does not know it; the router's
// first middleware also puts it in the request's requestinfo.Info.Route.
func PathTemplate(name string) string {
	if tpl, ok := strings.CutPrefix(name, MethodNotAllowedRoutePrefix); ok {
		return tpl
	}
	return pathTemplates[name]
}

// pathTemplates maps route names to path templates, for PathTemplate on
// every request.
var pathTemplates = func() map[string]string {
	m := map[string]string{}
	for _, rt := range Routes() {
		m[rt.Name] = rt.Path
	}
	return m
}()

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, &requestError{status: http.StatusNotFound, msg: "no such path: " + r.URL.Path})
}

func (s *server) methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		s.writeError(w, r, &requestError{
			status: http.StatusMethodNotAllowed,
			msg:    "method " + r.Method + " is not allowed on this path; allowed: " + allow,
		})
	}
}
