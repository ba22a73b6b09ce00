package deployments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// DefaultSyncTimeout is used when CacheConfig.SyncTimeout is zero; it matches
// the default of --cache-sync-timeout.
const DefaultSyncTimeout = 60 * time.Second

// syncPollInterval is how often Start checks whether the informers synced.
const syncPollInterval = 50 * time.Millisecond

// CacheConfig configures NewCache.
type CacheConfig struct {
	// Namespaces to watch and serve. Empty means all namespaces, with one
	// cluster-scoped informer; otherwise there is one informer per namespace,
	// so replicasd needs list and watch only in those namespaces.
	Namespaces []string
	// SyncTimeout bounds how long Start waits for the initial list; zero
	// means DefaultSyncTimeout.
	SyncTimeout time.Duration
	// DisableTransform keeps whole Deployments in the cache instead of
	// passing them through StripDeployment; it exists for benchmarks that
	// measure what the transform saves.
	DisableTransform bool
	// Observer is told about every event, for metrics.
	Observer Observer
}

// Cache is an informer cache of apps/v1 Deployments. Its reads never call
// the Kubernetes API. The objects it returns are shared with the informer
// and must not be modified.
type Cache struct {
	client      kubernetes.Interface
	logger      *slog.Logger
	observer    Observer
	syncTimeout time.Duration
	// informers is sorted by namespace; a single informer with namespace ""
	// when all namespaces are watched.
	informers []*namespaceInformer
	// byNamespace is nil when all namespaces are watched.
	byNamespace map[string]*namespaceInformer

	started atomic.Bool
	synced  atomic.Bool
	changes *notifier
	stopped chan struct{}

	// currentRV shares reads of the API's current resourceVersion, which
	// currentRVLimit spaces out; confirms shares the lists that confirm a
	// lagging namespace, keyed by namespace (apiresourceversion.go).
	currentRV      singleflight.Group
	currentRVLimit *rate.Limiter
	confirms       singleflight.Group
}

// namespaceInformer is the informer for one namespace ("" = all) and what
// the cache tracks about it.
type namespaceInformer struct {
	namespace    string
	informer     cache.SharedIndexInformer
	registration cache.ResourceEventHandlerRegistration
	health       *watchHealth
	// observedRV is the largest resourceVersion the event handler has seen;
	// handlers run after the store is updated, so the store has it too.
	observedRV atomic.Uint64
	// view keeps the store sorted for List.
	view sortedView
}

// NewCache builds the informers for cfg; Start runs them. A nil logger
// discards logs.
func NewCache(client kubernetes.Interface, cfg CacheConfig, logger *slog.Logger) (*Cache, error) {
	if client == nil {
		return nil, errors.New("deployment cache: nil Kubernetes client")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	namespaces, err := normalizeNamespaces(cfg.Namespaces)
	if err != nil {
		return nil, err
	}
	c := &Cache{
		client:      client,
		logger:      logger,
		observer:    cfg.Observer,
		syncTimeout: cfg.SyncTimeout,
		changes:     newNotifier(),
		stopped:     make(chan struct{}),
		// Burst 1: the first read is at once, the next ones spaced out.
		currentRVLimit: rate.NewLimiter(rate.Every(currentRVInterval), 1),
	}
	if c.syncTimeout <= 0 {
		c.syncTimeout = DefaultSyncTimeout
	}
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	} else {
		c.byNamespace = make(map[string]*namespaceInformer, len(namespaces))
	}
	for _, ns := range namespaces {
		ni, err := c.newNamespaceInformer(ns, cfg.DisableTransform)
		if err != nil {
			return nil, err
		}
		c.informers = append(c.informers, ni)
		if c.byNamespace != nil {
			c.byNamespace[ns] = ni
		}
	}
	return c, nil
}

// normalizeNamespaces validates, sorts and de-duplicates namespaces.
func normalizeNamespaces(in []string) ([]string, error) {
	var problems []string
	out := make([]string, 0, len(in))
	for _, ns := range in {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			problems = append(problems, fmt.Sprintf("namespace %q: %s", ns, strings.Join(msgs, "; ")))
			continue
		}
		out = append(out, ns)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("deployment cache: invalid namespaces: %s", strings.Join(problems, ", "))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (c *Cache) newNamespaceInformer(namespace string, disableTransform bool) (*namespaceInformer, error) {
	ni := &namespaceInformer{namespace: namespace, health: newWatchHealth()}
	// Resync 0: a resync only replays the cache to handlers, and nothing
	// here needs that.
	ni.informer = cache.NewSharedIndexInformerWithOptions(c.listWatch(ni), &appsv1.Deployment{},
		cache.SharedIndexInformerOptions{
			ResyncPeriod: 0,
			// No indexers: List keeps its own sorted view (sortedView)
			// and slices namespaces out of it, so a namespace index would
			// only cost memory per Deployment.
		})
	if !disableTransform {
		if err := ni.informer.SetTransform(StripDeployment); err != nil {
			return nil, fmt.Errorf("deployment cache: set transform: %w", err)
		}
	}
	if err := ni.informer.SetWatchErrorHandlerWithContext(c.watchErrorHandler(ni)); err != nil {
		return nil, fmt.Errorf("deployment cache: set watch error handler: %w", err)
	}
	reg, err := ni.informer.AddEventHandler(c.eventHandler(ni))
	if err != nil {
		return nil, fmt.Errorf("deployment cache: add event handler: %w", err)
	}
	ni.registration = reg
	return ni, nil
}

// Start runs the informers until ctx ends and waits, at most SyncTimeout,
// for their initial lists to reach the cache. On timeout the error says why,
// with the last list/watch failure (for example the missing RBAC
// permission). The informers keep running until ctx ends either way.
func (c *Cache) Start(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("deployment cache: already started")
	}
	var running sync.WaitGroup
	for _, ni := range c.informers {
		running.Go(func() { ni.informer.RunWithContext(ctx) })
	}
	go func() {
		running.Wait()
		close(c.stopped)
	}()
	namespaces := "all"
	if c.byNamespace != nil {
		namespaces = strings.Join(c.namespaceNames(), ",")
	}
	c.logger.Info("deployment cache sync started", "namespaces", namespaces, "timeout", c.syncTimeout.String())
	start := time.Now()
	err := wait.PollUntilContextTimeout(ctx, syncPollInterval, c.syncTimeout, true,
		func(context.Context) (bool, error) { return c.HasSynced(), nil })
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("deployment cache: stopped before it synced: %w", ctx.Err())
		}
		if _, werr := c.LastWatchError(); werr != nil {
			return fmt.Errorf("deployment cache did not sync within %s: %w", c.syncTimeout, werr)
		}
		return fmt.Errorf("deployment cache did not sync within %s; no list or watch call has failed yet, so the Kubernetes API is slow or unresponsive, or the cluster is very large (raise --cache-sync-timeout)", c.syncTimeout)
	}
	c.logger.Info("deployment cache synced",
		"namespaces", namespaces, "deployments", c.count(),
		"resourceVersion", c.ResourceVersion(), "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// Stopped returns a channel that is closed once the informers run by Start
// have stopped, after its ctx ended; never closed if Start was not called.
func (c *Cache) Stopped() <-chan struct{} { return c.stopped }

// HasSynced reports whether every informer's initial list has reached the
// cache and its event handler. It never turns false again.
func (c *Cache) HasSynced() bool {
	if c.synced.Load() {
		return true
	}
	for _, ni := range c.informers {
		if !ni.registration.HasSynced() {
			return false
		}
	}
	c.synced.Store(true)
	return true
}

// Namespaces returns the watched namespaces, sorted; nil means all.
func (c *Cache) Namespaces() []string {
	if c.byNamespace == nil {
		return nil
	}
	return c.namespaceNames()
}

func (c *Cache) namespaceNames() []string {
	names := make([]string, 0, len(c.informers))
	for _, ni := range c.informers {
		names = append(names, ni.namespace)
	}
	return names
}

func (c *Cache) count() int {
	n := 0
	for _, ni := range c.informers {
		n += len(ni.informer.GetIndexer().ListKeys())
	}
	return n
}
