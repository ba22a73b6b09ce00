package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"

	"github.com/replicasd/replicasd/src/api"
	"github.com/replicasd/replicasd/src/audit"
	"github.com/replicasd/replicasd/src/authz"
	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/handshakes"
	"github.com/replicasd/replicasd/src/health"
	"github.com/replicasd/replicasd/src/identity"
	"github.com/replicasd/replicasd/src/metrics"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// HTTP server limits. The write timeout leaves room for a PUT's Kubernetes
// calls plus its bounded read-your-writes wait.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 16 << 10
	writeTimeoutSlack = 20 * time.Second
)

// Server is one replicasd process, its listeners already bound.
type Server struct {
	cfg      *Config
	log      *slog.Logger
	reloader *tlsconfig.Reloader
	cache    *deployments.Cache
	checker  *health.Checker
	registry *prometheus.Registry
	metrics  *metrics.Metrics
	audit    *audit.Logger
	authz    *authz.Authorizer // nil without a policy file
	// stopKubeMetrics detaches the metrics from client-go's global hooks.
	stopKubeMetrics func()

	apiListener net.Listener
	opsListener net.Listener
	apiServer   *http.Server
	opsServer   *http.Server
	// inflight counts the API requests being served (see trackInflight).
	inflight atomic.Int64
}

// New builds the server from cfg and binds its listeners, so that a bad
// certificate, a bad address or a port in use fails before anything runs.
func New(cfg *Config) (*Server, error) {
	client, err := kubernetes.NewForConfig(cfg.RESTConfig)
	if err != nil {
		return nil, fmt.Errorf("creating Kubernetes client: %w", err)
	}
	return NewWithClient(cfg, client)
}

// NewWithClient is New with a given Kubernetes client. Each step that
// takes something to give back (client-go's metric hooks, the audit
// stream, a listener) adds its release to cleanups, which one deferred
// call runs, last first, when a later step fails; so a new step cannot
// forget one. A server that is returned gives them back in Run.
func NewWithClient(cfg *Config, client kubernetes.Interface) (_ *Server, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log}
	var cleanups []func()
	defer func() {
		if err != nil {
			for _, release := range slices.Backward(cleanups) {
				release()
			}
		}
	}()
	cleanups = append(cleanups, s.observe())
	if err := s.loadTLS(); err != nil {
		return nil, err
	}
	scaler, err := s.buildCache(client)
	if err != nil {
		return nil, err
	}
	if s.authz, err = openAuthorizer(cfg, log); err != nil {
		return nil, err
	}
	if s.audit, err = openAudit(cfg, log, s.metrics); err != nil {
		return nil, err
	}
	cleanups = append(cleanups, s.closeAudit)
	s.apiServer = s.buildAPIServer(s.apiHandler(scaler))
	s.opsServer = s.buildOpsServer()

	if s.apiListener, err = net.Listen("tcp", cfg.ListenAddress); err != nil {
		return nil, fmt.Errorf("listening on --listen-address: %w", err)
	}
	cleanups = append(cleanups, func() { _ = s.apiListener.Close() })
	if s.opsListener, err = net.Listen("tcp", cfg.OpsAddress); err != nil {
		return nil, fmt.Errorf("listening on --ops-address: %w", err)
	}
	return s, nil
}

// observe sets up the server's registry and metrics, and starts counting
// Kubernetes API calls; it returns what stops that count (also kept as
// s.stopKubeMetrics, for Run's release).
func (s *Server) observe() (stop func()) {
	s.registry = prometheus.NewRegistry()
	s.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	s.metrics = metrics.New(s.registry)
	s.stopKubeMetrics = func() {}
	if stop, err := s.metrics.ObserveKubeAPI(s.cfg.RESTConfig); err != nil {
		s.log.Warn("not counting Kubernetes API calls", "error", err.Error())
	} else {
		s.stopKubeMetrics = stop
	}
	return s.stopKubeMetrics
}

// loadTLS loads the TLS files into the reloader, whose reloads and
// refusals the metrics count.
func (s *Server) loadTLS() error {
	s.metrics.InitReverifyRefusals(tlsconfig.RefusalReasons)
	var err error
	if s.reloader, err = tlsconfig.New(s.cfg.TLS, s.log,
		tlsconfig.WithOnReload(s.metrics.CertReloaded), tlsconfig.WithOnRefused(s.metrics.ReverifyRefused)); err != nil {
		return fmt.Errorf("loading TLS files: %w", err)
	}
	s.metrics.RegisterCertificates(s.reloader)
	return nil
}

// buildCache builds the deployments cache (not yet started: Run starts
// it), the scaler that writes through client, and the health checker that
// reports on both.
func (s *Server) buildCache(client kubernetes.Interface) (*deployments.Scaler, error) {
	cfg := s.cfg
	var err error
	s.cache, err = deployments.NewCache(client, deployments.CacheConfig{
		Namespaces:  cfg.Namespaces,
		SyncTimeout: cfg.CacheSyncTimeout,
		Observer:    s.metrics.Observer(),
	}, s.log)
	if err != nil {
		return nil, err
	}
	s.metrics.RegisterCacheSynced(s.cache.HasSynced)
	scaler := deployments.NewScaler(client, s.cache, deployments.ScalerConfig{
		ReadYourWritesTimeout: cfg.ReadYourWritesTimeout,
		KubeAPITimeout:        cfg.KubeAPITimeout,
	}, s.log)
	probe := cfg.Probe
	if probe == nil {
		probe = health.APIServerProbe(client.Discovery().RESTClient())
	}
	s.checker = health.New(health.Options{
		Probe:      probe,
		Synced:     s.cache.HasSynced,
		WatchError: func() error { _, err := s.cache.LastWatchError(); return err },
		Logger:     s.log,
	})
	s.metrics.RegisterReady(s.checker.Ready)
	return scaler, nil
}

// apiHandler is the API's router inside its middleware chain.
func (s *Server) apiHandler(scaler *deployments.Scaler) http.Handler {
	cfg := s.cfg
	apiOpts := api.Options{
		Store:                     s.metrics.CountReads(s.cache),
		Scaler:                    s.metrics.CountScales(scaler),
		Health:                    s.checker,
		DefaultNamespace:          cfg.DefaultNamespace,
		MaxReplicas:               cfg.MaxReplicas,
		MinResourceVersionTimeout: cfg.MinResourceVersionTimeout,
		Logger:                    s.log,
	}
	securityOptions(&apiOpts, cfg, s.authz)
	// The router fills each request's requestinfo.Info (route template,
	// verb, target, outcome) for the metrics and audit middleware.
	router := api.NewRouter(apiOpts)
	s.metrics.InitRoutes(metricRoutes())
	s.metrics.InitNamespaces(cfg.Namespaces)
	// Identity first, then audit and metrics around everything that can
	// answer or refuse a request (router middleware and handlers), so that
	// every answer, 403s and 429s included, is counted and audited.
	// Reverify, inside them, refuses requests on connections opened before
	// their certificate stopped verifying (CA removed, revoked, expired).
	// trackInflight, outermost, counts the requests a shutdown that runs out
	// of time cuts.
	return growStack(s.trackInflight(identity.Middleware(s.audit.Middleware(s.metrics.Middleware(s.reloader.Reverify(router))))))
}

// buildAPIServer is the mTLS API's HTTP server around handler.
func (s *Server) buildAPIServer(handler http.Handler) *http.Server {
	// net/http reports failed handshakes only on its ErrorLog; the watcher
	// reads them from there, counts and audits each, and logs it at debug.
	watcher := handshakes.New(s.log, func(f handshakes.Failure) {
		s.metrics.TLSHandshakeFailed(f.Reason)
		s.audit.LogHandshake(f)
	})
	srv := newAPIServer(s.cfg, handler, watcher.Config(s.reloader.TLSConfig()), watcher.ErrorLog())
	// The client's identity (see identity.Middleware) and Reverify's
	// verdict are made once per connection, not per request.
	srv.ConnContext = s.reloader.ConnContext
	return srv
}

// buildOpsServer is the plain-HTTP server of probes, metrics and, with
// --profiling, profiles.
func (s *Server) buildOpsServer() *http.Server {
	opsMux := http.NewServeMux()
	s.checker.Register(opsMux)
	opsMux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	if s.cfg.Profiling {
		registerProfiling(opsMux)
	}
	return &http.Server{
		Handler:           opsMux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// APIAddr is the bound address of the mTLS API.
func (s *Server) APIAddr() net.Addr { return s.apiListener.Addr() }

// OpsAddr is the bound address of the ops server.
func (s *Server) OpsAddr() net.Addr { return s.opsListener.Addr() }

// Registry is the server's private Prometheus registry.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Run serves until ctx ends (a signal) or a part fails (the cache could not
// sync in time). On the way out readiness goes false and in-flight requests
// get ShutdownTimeout to finish; the cache, the TLS reloader, the policy
// and the health checker keep running until then, since those requests
// still read them (read-your-writes, ?minResourceVersion). Requests still
// running at the deadline are cut, and logged as such. Run returns nil
// after a stop by ctx, whether the drain finished in time or not.
func (s *Server) Run(ctx context.Context) error {
	// The parts' context ends only after the HTTP servers drained.
	partsCtx, stopParts := context.WithCancel(context.WithoutCancel(ctx))
	defer stopParts()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.reloader.Run(partsCtx) })
	if s.authz != nil {
		g.Go(func() error { return s.authz.Run(partsCtx) })
	}
	g.Go(func() error { s.checker.Run(partsCtx); return nil })
	g.Go(func() error {
		err := s.cache.Start(partsCtx)
		if err != nil && partsCtx.Err() != nil {
			return nil // stopped after a signal or another part's failure, not a sync failure
		}
		return err
	})
	g.Go(func() error {
		s.log.Info("serving API", "address", s.APIAddr().String())
		return ignoreClosed(s.apiServer.ServeTLS(s.apiListener, "", ""))
	})
	g.Go(func() error {
		s.log.Info("serving probes and metrics", "address", s.OpsAddr().String())
		return ignoreClosed(s.opsServer.Serve(s.opsListener))
	})
	g.Go(func() error {
		<-gctx.Done()
		defer stopParts()
		return s.shutdown()
	})
	err := g.Wait()
	s.release()
	if err != nil {
		return err
	}
	s.log.Info("stopped")
	return nil
}

// release lets go of what New took besides the listeners: the audit
// stream, flushed first, and client-go's metric hooks.
func (s *Server) release() {
	s.closeAudit()
	s.stopKubeMetrics()
}

// closeAudit flushes and closes the audit stream.
func (s *Server) closeAudit() {
	if err := s.audit.Close(); err != nil {
		s.log.Error("closing the audit log", "error", err.Error())
	}
}

// metricRoutes are the API's routes, for the HTTP metrics to show from
// start-up.
func metricRoutes() []metrics.Route {
	var routes []metrics.Route
	for _, rt := range api.Routes() {
		routes = append(routes, metrics.Route{Template: rt.Path, Method: rt.Method})
	}
	return routes
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
