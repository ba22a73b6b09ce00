// Package api serves the replicasd HTTP API v1 (see the contract): listing
// Deployments and reading or setting their replica counts, answered from the
// informer cache and written through the scale subresource.
//
// The package owns routing, request validation, JSON in and out, and the one
// mapping from errors to HTTP status codes (errors.go). It consumes small
// interfaces (Store, Scaler, Health) so it can be tested without Kubernetes.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
)

// Defaults applied by NewRouter to zero-valued Options fields.
const (
	// DefaultMinResourceVersionTimeout bounds the wait for ?minResourceVersion.
	DefaultMinResourceVersionTimeout = 5 * time.Second
	// DefaultMaxReplicas is the contract's default for --max-replicas.
	DefaultMaxReplicas int32 = 1000
	// DefaultNamespace is the contract's default for --default-namespace.
	DefaultNamespace = "default"
)

// Options configures the API handler.
type Options struct {
	// Store answers every read; required.
	Store Store
	// Scaler performs every write; required.
	Scaler Scaler
	// Health backs GET /api/v1/health; required.
	Health Health
	// DefaultNamespace is used by the un-namespaced paths when ?namespace= is
	// absent. Empty means "default".
	DefaultNamespace string
	// MaxReplicas is the largest replicaCount a PUT accepts. Zero or negative
	// means DefaultMaxReplicas.
	MaxReplicas int32
	// MinResourceVersionTimeout bounds how long a GET with ?minResourceVersion
	// waits for the cache before answering 504. Zero means 5s.
	MinResourceVersionTimeout time.Duration
	// Logger receives one line per server-side (5xx) error. Nil discards.
	Logger *slog.Logger

	// Authorizer decides what each client identity may do. Nil allows
	// every verified client everything (no --authorization-policy-file).
	// GET /health is allowed to every verified client regardless.
	Authorizer Authorizer
	// WriteLimiter and ReadLimiter throttle each client identity's writes
	// (PUT) and reads; nil means no limit. GET /health is exempt.
	WriteLimiter, ReadLimiter RateLimiter
	// Inflight bounds the requests served at once; nil means no bound.
	// GET /health is outside it.
	Inflight InflightLimiter
	// ClientInflight bounds the requests each client identity has in
	// flight, so that one identity cannot take all of Inflight; nil means
	// no bound. GET /health is outside it.
	ClientInflight ClientInflightLimiter
	// HealthInflight bounds the GET /health requests served at once, apart
	// from Inflight, so that probes are answered while the API is full;
	// nil means no bound.
	HealthInflight InflightLimiter
}

// New returns the API handler: every /api/v1 endpoint of the contract, with
// 404 and 405 answers in the error envelope.
func New(opts Options) http.Handler {
	return NewRouter(opts)
}

// NewRouter is New returning the concrete router, so the caller can add
// middleware with Use. Middleware added that way runs inside routing, where
// mux.CurrentRoute(r) gives the route's name (see the Route* constants;
// PathTemplate gives its path template) and mux.Vars(r) its variables; it
// runs for the 405 routes too, but not for 404s.
//
// NewRouter panics when Store, Scaler or Health is nil: that is a wiring bug,
// not a runtime condition.
func NewRouter(opts Options) *mux.Router {
	if opts.Store == nil || opts.Scaler == nil || opts.Health == nil {
		panic("api: Options.Store, Options.Scaler and Options.Health are required")
	}
	if opts.DefaultNamespace == "" {
		opts.DefaultNamespace = DefaultNamespace
	}
	if opts.MaxReplicas <= 0 {
		opts.MaxReplicas = DefaultMaxReplicas
	}
	if opts.MinResourceVersionTimeout <= 0 {
		opts.MinResourceVersionTimeout = DefaultMinResourceVersionTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{
		store:          opts.Store,
		scaler:         opts.Scaler,
		health:         opts.Health,
		defaultNS:      opts.DefaultNamespace,
		maxReplicas:    opts.MaxReplicas,
		minRVTimeout:   opts.MinResourceVersionTimeout,
		log:            opts.Logger,
		authz:          opts.Authorizer,
		writeLimiter:   opts.WriteLimiter,
		readLimiter:    opts.ReadLimiter,
		inflight:       opts.Inflight,
		clientInflight: opts.ClientInflight,
		healthInflight: opts.HealthInflight,
	}
	return s.router()
}

// server holds the handlers' dependencies; its fields never change after
// NewRouter, so handlers share it without locking.
type server struct {
	store          Store
	scaler         Scaler
	health         Health
	defaultNS      string
	maxReplicas    int32
	minRVTimeout   time.Duration
	log            *slog.Logger
	authz          Authorizer // nil: everything allowed
	writeLimiter   RateLimiter
	readLimiter    RateLimiter
	inflight       InflightLimiter
	clientInflight ClientInflightLimiter
	healthInflight InflightLimiter
}
