package deployments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// watchErrorLogInterval bounds how often one informer logs failures: while
// the API server is down the reflector retries every second or so, and one
// line per interval says all there is to say.
const watchErrorLogInterval = 10 * time.Second

// WatchError is a failed list or watch call of the informer for one
// namespace ("" for all namespaces). It wraps the client error, so
// apierrors.IsForbidden and friends see through it.
type WatchError struct {
	// Namespace is the informer's namespace, "" for all namespaces.
	Namespace string
	// Verb is "list", "watch", or "list/watch" when the reflector reported
	// the error without saying which call failed.
	Verb string
	// Err is the error from client-go.
	Err error
}

func (e *WatchError) Error() string {
	scope := "at cluster scope (all namespaces)"
	if e.Namespace != "" {
		scope = fmt.Sprintf("in namespace %q", e.Namespace)
	}
	if apierrors.IsForbidden(e.Err) {
		// The message operators need most: which permission to grant.
		return fmt.Sprintf("replicasd lacks RBAC permission to %s deployments.apps %s (it needs list and watch): %v",
			e.Verb, scope, e.Err)
	}
	return fmt.Sprintf("%s deployments.apps %s: %v", e.Verb, scope, e.Err)
}

// Unwrap returns the client-go error.
func (e *WatchError) Unwrap() error { return e.Err }

// watchHealth is the connection state of one informer, as seen through the
// results of its list and watch calls.
type watchHealth struct {
	mu      sync.Mutex
	err     *WatchError // nil while the latest call succeeded
	at      time.Time   // when err happened
	limiter *rate.Limiter
}

func newWatchHealth() *watchHealth {
	return &watchHealth{limiter: rate.NewLimiter(rate.Every(watchErrorLogInterval), 1)}
}

func (h *watchHealth) get() (*WatchError, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err, h.at
}

// record stores err as the current failure and reports whether it should be
// logged now.
func (h *watchHealth) record(err *WatchError, now time.Time) (log bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err, h.at = err, now
	return h.limiter.AllowN(now, 1)
}

// clear forgets the current failure and returns it, if there was one.
func (h *watchHealth) clear() *WatchError {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.err
	h.err, h.at = nil, time.Time{}
	return prev
}

// listWatch is the informer's ListerWatcher: the same calls the generated
// informer makes, plus a look at each result. That is how the cache knows
// the watch has recovered: the WatchErrorHandler only hears about failures,
// and not even all of them (the reflector retries a refused watch
// connection internally without calling it).
func (c *Cache) listWatch(ni *namespaceInformer) cache.ListerWatcher {
	deployments := c.client.AppsV1().Deployments(ni.namespace)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			list, err := deployments.List(ctx, opts)
			c.observeCall(ctx, ni, "list", err)
			if err != nil {
				return nil, err
			}
			return list, nil
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			w, err := deployments.Watch(ctx, opts)
			c.observeCall(ctx, ni, "watch", err)
			if err == nil {
				// The reflector re-opens its watch every few minutes and
				// after every break; at debug, this traces the reconnects.
				c.logger.Debug("deployment watch started", "namespace", ni.namespace, "resourceVersion", opts.ResourceVersion)
			}
			return w, err
		},
	}
	// Keeps the reflector from trying WatchList streams against clients
	// that cannot do them (the fake clientset), as the generated informers do.
	return cache.ToListWatcherWithWatchListSemantics(lw, c.client)
}

// observeCall updates ni's health from the result of one list or watch call.
func (c *Cache) observeCall(ctx context.Context, ni *namespaceInformer, verb string, err error) {
	switch {
	case err == nil, isExpired(err):
		// The API server answered; "expired" only makes the reflector relist.
		if prev := ni.health.clear(); prev != nil {
			c.logger.Info("deployment watch recovered", "namespace", ni.namespace, "previousError", prev.Error())
		}
	case ctx.Err() != nil:
		// Shutting down: a cancelled call says nothing about the API server.
	default:
		c.recordWatchError(ni, &WatchError{Namespace: ni.namespace, Verb: verb, Err: err})
	}
}

// watchErrorHandler is set with SetWatchErrorHandlerWithContext. It replaces
// client-go's default handler, which would log through klog.
func (c *Cache) watchErrorHandler(ni *namespaceInformer) cache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, _ *cache.Reflector, err error) {
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isExpired(err) {
			// Normal ends of a watch; the reflector relists or rewatches.
			c.logger.Debug("deployment watch closed", "namespace", ni.namespace, "error", err)
			return
		}
		if cur, _ := ni.health.get(); cur != nil && errors.Is(err, cur.Err) {
			// Already recorded, with the verb, when the call itself failed.
			return
		}
		c.recordWatchError(ni, &WatchError{Namespace: ni.namespace, Verb: "list/watch", Err: err})
	}
}

func (c *Cache) recordWatchError(ni *namespaceInformer, werr *WatchError) {
	if c.observer.OnWatchError != nil {
		c.observer.OnWatchError(ni.namespace, werr)
	}
	if !ni.health.record(werr, time.Now()) {
		return
	}
	level := slog.LevelWarn
	if apierrors.IsForbidden(werr) {
		level = slog.LevelError // needs an operator: retrying will not help
	}
	c.logger.Log(context.Background(), level, "deployment list/watch failed; retrying",
		"namespace", ni.namespace, "error", werr.Error())
}

// LastWatchError returns the most recent list or watch failure that has not
// been followed by a successful call of the same informer, and when it
// happened; (zero time, nil) while every informer's latest call succeeded.
//
// Recovery is observed on the calls themselves: a failure is cleared as soon
// as the informer's next list or watch call gets an answer from the API
// server (the reflector retries with backoff, up to about 30s apart). An
// established watch that later breaks is not itself a failure; the relist
// or rewatch that follows is what gets recorded if it fails.
func (c *Cache) LastWatchError() (at time.Time, err error) {
	var latest *WatchError
	for _, ni := range c.informers {
		if e, t := ni.health.get(); e != nil && (latest == nil || t.After(at)) {
			latest, at = e, t
		}
	}
	if latest == nil {
		return time.Time{}, nil
	}
	return at, latest
}

func isExpired(err error) bool {
	return apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
}
