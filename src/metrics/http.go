package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/replicasd/replicasd/src/requestinfo"
)

// RouteUnmatched is the route label of requests no route matched (404s of
// unknown paths), so that raw paths never become label values.
const RouteUnmatched = "unmatched"

// methodOther stands for every method outside the standard set: a client
// must not be able to mint label values.
const methodOther = "OTHER"

// Middleware counts and times every API request and tracks the requests in
// flight. Put it outside the router, so that requests refused by router
// middleware and 404s are counted too. The route label is the Info's Route,
// which the api router fills (RouteMiddleware does it for other mux
// routers); it is "unmatched" when no route matched. It puts a
// requestinfo.Info into the request context when no earlier middleware did.
//
// It is written by hand rather than with promhttp.InstrumentHandler*,
// which would change the series (method label values lower-cased, "unknown"
// instead of OTHER, a handler that panicked not counted, no route label
// without WithLabelFromCtx) and, per request, build a prometheus.Labels map
// and look the series up by hashing it, for each of the counter and the
// histogram, on top of its own ResponseWriter wrapper: allocations next to
// a cached GET's, which BenchmarkHandler in src/app counts.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestinfo.From(r.Context())
		if info == nil {
			info = &requestinfo.Info{}
			r = r.WithContext(requestinfo.With(r.Context(), info))
		}
		m.httpInFlight.Inc()
		start := time.Now()
		// The audit middleware, outside, hands over its Recorder: one
		// wrapper records the status for both.
		rec, ok := w.(*requestinfo.Recorder)
		if !ok {
			rec = &requestinfo.Recorder{ResponseWriter: w}
		}
		completed := false
		defer func() {
			m.httpInFlight.Dec()
			code := rec.Status()
			switch {
			case code == 0 && !completed:
				code = http.StatusInternalServerError // the handler panicked before answering
			case code == 0:
				code = http.StatusOK // net/http's implicit status
			}
			route := info.Route
			if route == "" {
				route = RouteUnmatched
			}
			series := m.series(route, normalizeMethod(r.Method), code)
			series.requests.Inc()
			series.duration.Observe(time.Since(start).Seconds())
			if code == http.StatusForbidden && info.Verb == requestinfo.VerbScale {
				// Refused by the authorization policy before reaching the
				// scaler, which counts every other outcome.
				m.scaleOperations.WithLabelValues(ScaleForbidden).Inc()
			}
		}()
		next.ServeHTTP(rec, r)
		completed = true
	})
}

// RouteMiddleware records the matched route's path template in the
// request's Info, for Middleware. Add it first to a mux router with Use:
// only there does mux.CurrentRoute know the route. (The api router records
// it itself.)
func RouteMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := requestinfo.From(r.Context()); info != nil {
			if route := mux.CurrentRoute(r); route != nil {
				if tpl, err := route.GetPathTemplate(); err == nil {
					info.Route = tpl
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// httpKey names one series of the HTTP metrics.
type httpKey struct {
	route, method string
	code          int
}

// httpSeries is the request counter and the latency histogram of one
// route, method and status code.
type httpSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// series returns the HTTP metrics' series for route, method and code.
// Looking them up by label values hashes the values and formats the code
// on every request, a cost next to a cached GET; the labels' values are
// bounded (route templates, the standard methods, status codes), so the
// series are kept instead.
func (m *Metrics) series(route, method string, code int) *httpSeries {
	key := httpKey{route: route, method: method, code: code}
	if s, ok := m.httpSeries.Load(key); ok {
		return s.(*httpSeries)
	}
	s, _ := m.httpSeries.LoadOrStore(key, &httpSeries{
		requests: m.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)),
		duration: m.httpDuration.WithLabelValues(route, method),
	})
	return s.(*httpSeries)
}

func normalizeMethod(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return methodOther
}
