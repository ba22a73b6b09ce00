package metrics

import (
	"github.com/replicasd/replicasd/src/handshakes"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// Route is an API endpoint: its mux path template and its method.
type Route struct {
	Template string
	Method   string
}

// initialCodes are the status codes whose replicasd_http_requests_total
// series exist from start-up for every route: success, and the
// server-side failures that error-ratio alerts divide by.
var initialCodes = []int{200, 500, 502, 503, 504}

// initKnownLabels creates, at zero, every series whose label values are
// known before the first event, as Prometheus' instrumentation guide asks
// ("avoid missing metrics"): a fresh server's first scrape has them, so
// rate(), increase() and absent() work from the start instead of seeing
// "no data" until the first failure.
func (m *Metrics) initKnownLabels() {
	for _, reason := range handshakes.Reasons {
		m.tlsHandshakeErrors.WithLabelValues(reason)
	}
	for _, result := range []string{tlsconfig.ReloadSuccess, tlsconfig.ReloadFailure} {
		m.certReloads.WithLabelValues(result)
	}
	for _, typ := range []string{EventAdd, EventUpdate, EventDelete} {
		m.informerEvents.WithLabelValues(typ)
	}
	for _, result := range ScaleResults {
		m.scaleOperations.WithLabelValues(result)
	}
}

// InitRoutes creates, at zero, the HTTP series of each route: the request
// duration histogram, and the request counter for the codes in
// initialCodes. Call it once at start-up with every route the API serves.
func (m *Metrics) InitRoutes(routes []Route) {
	for _, rt := range routes {
		for _, code := range initialCodes {
			m.series(rt.Template, normalizeMethod(rt.Method), code)
		}
	}
}

// InitNamespaces creates replicasd_cache_deployments at zero for each
// watched namespace, so a namespace without Deployments shows 0 rather
// than nothing. Without --namespace the namespaces are not known in
// advance.
func (m *Metrics) InitNamespaces(namespaces []string) {
	for _, ns := range namespaces {
		m.cacheDeployments.WithLabelValues(ns)
	}
}
