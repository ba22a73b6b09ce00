package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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

// NewWithClient is New with a given Kubernetes client.
func NewWithClient(cfg *Config, client kubernetes.Interface) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, registry: prometheus.NewRegistry()}
	s.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	s.metrics = metrics.New(s.registry)
	s.stopKubeMetrics = func() {}
	if stop, err := s.metrics.ObserveKubeAPI(cfg.RESTConfig); err != nil {
		log.Warn("not counting Kubernetes API calls", "error", err.Error())
	} else {
		s.stopKubeMetrics = stop
	}

	var err error
	s.metrics.InitReverifyRefusals(tlsconfig.RefusalReasons)
	if s.reloader, err = tlsconfig.New(cfg.TLS, log,
		tlsconfig.WithOnReload(s.metrics.CertReloaded), tlsconfig.WithOnRefused(s.metrics.ReverifyRefused)); err != nil {
		s.stopKubeMetrics()
		return nil, fmt.Errorf("loading TLS files: %w", err)
	}
	s.metrics.RegisterCertificates(s.reloader)
	s.cache, err = deployments.NewCache(client, deployments.CacheConfig{
		Namespaces:  cfg.Namespaces,
		SyncTimeout: cfg.CacheSyncTimeout,
		Observer:    s.metrics.Observer(),
	}, log)
	if err != nil {
		s.stopKubeMetrics()
		return nil, err
	}
	s.metrics.RegisterCacheSynced(s.cache.HasSynced)
	scaler := deployments.NewScaler(client, s.cache, deployments.ScalerConfig{
		ReadYourWritesTimeout: cfg.ReadYourWritesTimeout,
		KubeAPITimeout:        cfg.KubeAPITimeout,
	}, log)
	probe := cfg.Probe
	if probe == nil {
		probe = health.APIServerProbe(client.Discovery().RESTClient())
	}
	s.checker = health.New(health.Options{
		Probe:      probe,
		Synced:     s.cache.HasSynced,
		WatchError: func() error { _, err := s.cache.LastWatchError(); return err },
		Logger:     log,
	})
	s.metrics.RegisterReady(s.checker.Ready)

	if s.authz, err = openAuthorizer(cfg, log); err != nil {
		s.stopKubeMetrics()
		return nil, err
	}
	apiOpts := api.Options{
		Store:                     s.metrics.CountReads(s.cache),
		Scaler:                    s.metrics.CountScales(scaler),
		Health:                    s.checker,
		DefaultNamespace:          cfg.DefaultNamespace,
		MaxReplicas:               cfg.MaxReplicas,
		MinResourceVersionTimeout: cfg.MinResourceVersionTimeout,
		Logger:                    log,
	}
	securityOptions(&apiOpts, cfg, s.authz)
	// The router fills each request's requestinfo.Info (route template,
	// verb, target, outcome) for the metrics and audit middleware.
	router := api.NewRouter(apiOpts)
	s.metrics.InitRoutes(metricRoutes())
	s.metrics.InitNamespaces(cfg.Namespaces)
	if s.audit, err = openAudit(cfg, log, s.metrics); err != nil {
		s.stopKubeMetrics()
		return nil, err
	}
	// Identity first, then audit and metrics around everything that can
	// answer or refuse a request (router middleware and handlers), so that
	// every answer, 403s and 429s included, is counted and audited.
	// Reverify, inside them, refuses requests on connections opened before
	// their certificate stopped verifying (CA removed, revoked, expired).
	// trackInflight, outermost, counts the requests a shutdown that runs out
	// of time cuts.
	handler := growStack(s.trackInflight(identity.Middleware(s.audit.Middleware(s.metrics.Middleware(s.reloader.Reverify(router))))))
	// net/http reports failed handshakes only on its ErrorLog; the watcher
	// reads them from there, counts and audits each, and logs it at debug.
	watcher := handshakes.New(log, func(f handshakes.Failure) {
		s.metrics.TLSHandshakeFailed(f.Reason)
		s.audit.LogHandshake(f)
	})
	s.apiServer = newAPIServer(cfg, handler, watcher.Config(s.reloader.TLSConfig()), watcher.ErrorLog())
	// The client's identity (see identity.Middleware) and Reverify's
	// verdict are made once per connection, not per request.
	s.apiServer.ConnContext = s.reloader.ConnContext

	opsMux := http.NewServeMux()
	s.checker.Register(opsMux)
	opsMux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{Registry: s.registry}))
	if cfg.Profiling {
		registerProfiling(opsMux)
	}
	s.opsServer = &http.Server{
		Handler:           opsMux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}

	if s.apiListener, err = net.Listen("tcp", cfg.ListenAddress); err != nil {
		s.release()
		return nil, fmt.Errorf("listening on --listen-address: %w", err)
	}
	if s.opsListener, err = net.Listen("tcp", cfg.OpsAddress); err != nil {
		_ = s.apiListener.Close()
		s.release()
		return nil, fmt.Errorf("listening on --ops-address: %w", err)
	}
	return s, nil
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
	if err := s.audit.Close(); err != nil {
		s.log.Error("closing the audit log", "error", err.Error())
	}
	s.stopKubeMetrics()
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
