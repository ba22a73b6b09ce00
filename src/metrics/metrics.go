// Package metrics defines replicasd's Prometheus metrics. They live on the
// registry the caller passes to New (the server's private one, never the
// global registry), and every name starts with "replicasd_". The package
// offers the hooks that move them: HTTP middleware, a deployments.Observer,
// wrappers for the cache reads and the scaler, client-go's metrics adapter,
// and functions for TLS handshake failures and certificate reloads.
//
// docs/observability.md lists every metric with its meaning.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/replicasd/replicasd/src/version"
)

// Namespace prefixes every metric name.
const Namespace = "replicasd"

// Buckets of the latency histograms, in seconds: from half a millisecond
// (a cached GET) to ten seconds (a PUT waiting out its read-your-writes
// bound).
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Metrics holds every collector of one server. Its methods are safe for
// concurrent use.
type Metrics struct {
	registerer prometheus.Registerer
	now        func() time.Time

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight prometheus.Gauge
	// httpSeries caches the series of httpRequests and httpDuration by
	// route, method and code (see Middleware).
	httpSeries sync.Map

	tlsHandshakeErrors *prometheus.CounterVec
	certReloads        *prometheus.CounterVec
	// tlsReverifyRefusals: see ReverifyRefused.
	tlsReverifyRefusals *prometheus.CounterVec

	cacheDeployments    *prometheus.GaugeVec
	informerEvents      *prometheus.CounterVec
	informerLastEvent   prometheus.Gauge
	informerWatchErrors prometheus.Counter
	cacheReads          prometheus.Counter

	kubeRequests *prometheus.CounterVec
	kubeDuration *prometheus.HistogramVec

	scaleOperations *prometheus.CounterVec
	rywWait         prometheus.Histogram
	rywTimeouts     prometheus.Counter

	auditEventsDropped prometheus.Counter
	handlerPanics      prometheus.Counter
}

// New creates the metrics and registers them, with build_info, on reg.
// It panics when a name is already registered there: that is a wiring bug.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		registerer: reg,
		now:        time.Now,

		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "API requests answered, by route (the mux path template, or \"unmatched\"), method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer an API request, by route and method.",
			Buckets: latencyBuckets,
		}, []string{"route", "method"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "http_requests_in_flight",
			Help: "API requests being served.",
		}),

		tlsHandshakeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "tls_handshake_errors_total",
			Help: "Failed TLS handshakes on the API port, by reason: no_certificate, unknown_authority, expired, bad_usage, protocol, other.",
		}, []string{"reason"}),
		certReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "cert_reloads_total",
			Help: "Reloads of changed TLS files, by result (success or failure).",
		}, []string{"result"}),
		tlsReverifyRefusals: newTLSReverifyRefusals(),

		cacheDeployments: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "cache_deployments",
			Help: "Deployments in the informer cache, by namespace.",
		}, []string{"namespace"}),
		informerEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "informer_events_total",
			Help: "Events the informer delivered to the cache, by type (add, update, delete).",
		}, []string{"type"}),
		informerLastEvent: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "informer_last_event_timestamp_seconds",
			Help: "Unix time of the last event the informer delivered.",
		}),
		informerWatchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "informer_watch_errors_total",
			Help: "Failed list and watch calls of the informer.",
		}),
		cacheReads: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "cache_reads_total",
			Help: "API requests answered from the informer cache; compare with kube_api_requests_total.",
		}),

		kubeRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "kube_api_requests_total",
			Help: "Requests to the Kubernetes API, by HTTP verb and status code (\"<error>\" when none came back).",
		}, []string{"verb", "code"}),
		kubeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "kube_api_request_duration_seconds",
			Help:    "Latency of requests to the Kubernetes API, by HTTP verb.",
			Buckets: latencyBuckets,
		}, []string{"verb"}),

		scaleOperations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "scale_operations_total",
			Help: "PUTs of a replica count, by result: updated, noop, precondition_failed, conflict_retried, forbidden, error.",
		}, []string{"result"}),
		rywWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "scale_read_your_writes_wait_seconds",
			Help:    "How long successful PUTs waited for the cache to show their result.",
			Buckets: latencyBuckets,
		}),
		rywTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "scale_read_your_writes_timeouts_total",
			Help: "Successful PUTs whose result the cache did not show within --read-your-writes-timeout.",
		}),

		auditEventsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "audit_events_dropped_total",
			Help: "Audit events dropped because the audit stream could not keep up.",
		}),
		handlerPanics: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_handler_panics_total",
			Help: "API requests whose handler panicked; each was answered 500 (when nothing had been sent yet) and audited.",
		}),
	}

	info := version.Get()
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help: "Always 1; the labels describe the running binary.",
	}, []string{"version", "revision", "goversion"})
	buildInfo.WithLabelValues(info.Version, info.Revision, info.GoVersion).Set(1)

	reg.MustRegister(
		m.httpRequests, m.httpDuration, m.httpInFlight,
		m.tlsHandshakeErrors, m.certReloads, m.tlsReverifyRefusals,
		m.cacheDeployments, m.informerEvents, m.informerLastEvent, m.informerWatchErrors, m.cacheReads,
		m.kubeRequests, m.kubeDuration,
		m.scaleOperations, m.rywWait, m.rywTimeouts,
		m.auditEventsDropped, m.handlerPanics,
		buildInfo,
	)
	m.initKnownLabels()
	return m
}

// HandlerPanicked counts an API request whose handler panicked.
func (m *Metrics) HandlerPanicked() { m.handlerPanics.Inc() }

// AuditEventDropped counts an audit event the audit stream had no room for.
func (m *Metrics) AuditEventDropped() { m.auditEventsDropped.Inc() }
