package deployments

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// progressPollInterval is how often a waiter rechecks the stores without a
// wake-up. Watch bookmarks and relists move a store's resourceVersion
// without any event handler running, so they wake nobody.
const progressPollInterval = 100 * time.Millisecond

// notifier wakes every waiter at once: wait returns a channel that the next
// broadcast closes (and replaces), like sync.Cond but usable in select.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func newNotifier() *notifier { return &notifier{ch: make(chan struct{})} }

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *notifier) broadcast() {
	n.mu.Lock()
	defer n.mu.Unlock()
	close(n.ch)
	n.ch = make(chan struct{})
}

// parseResourceVersion reads a resourceVersion as a number. They are opaque
// strings in theory, but etcd revisions in practice, and the kube-apiserver
// watch cache compares them numerically too.
func parseResourceVersion(rv string) (uint64, bool) {
	v, err := strconv.ParseUint(rv, 10, 64)
	return v, err == nil
}

// observe records that ni delivered an object at resourceVersion rv.
func (c *Cache) observe(ni *namespaceInformer, rv string) {
	v, ok := parseResourceVersion(rv)
	if !ok {
		return
	}
	for {
		cur := ni.observedRV.Load()
		if v <= cur {
			return
		}
		if ni.observedRV.CompareAndSwap(cur, v) {
			c.changes.broadcast()
			return
		}
	}
}

// progress is the resourceVersion up to which ni's store is complete: the
// larger of what its handler saw and what the store itself recorded (the
// list's resourceVersion, later objects, watch bookmarks).
//
// This deliberately does not use the informer's LastSyncResourceVersion:
// the reflector advances that when it queues an event, before the event
// reaches the store, so a read right after could still miss the object.
func (ni *namespaceInformer) progress() uint64 {
	p := ni.observedRV.Load()
	if s, ok := parseResourceVersion(ni.informer.GetIndexer().LastStoreSyncResourceVersion()); ok && s > p {
		p = s
	}
	return p
}

// minProgress is the resourceVersion that every one of informers reached.
func minProgress(informers []*namespaceInformer) uint64 {
	var least uint64
	for i, ni := range informers {
		if p := ni.progress(); i == 0 || p < least {
			least = p
		}
	}
	return least
}

// ResourceVersion returns the resourceVersion that the cache has reached in
// every watched namespace, as a decimal string.
func (c *Cache) ResourceVersion() string {
	return strconv.FormatUint(minProgress(c.informers), 10)
}

// WaitForResourceVersion returns once the cache has reached resourceVersion
// rv in every watched namespace (numeric comparison), so that a read after
// it sees every change up to rv. It fails with an error of kind ErrInvalid
// when rv is not a non-negative integer, ErrNotSynced before the cache
// synced, and ErrResourceVersionTimeout when ctx ends first.
//
// A resourceVersion ahead of the Kubernetes API's current one is an error
// of kind ErrResourceVersionTooLarge at once, without waiting. With several
// --namespace informers, a namespace without changes advances only with
// watch bookmarks (about once a minute), so a wait that finds one behind
// asks the API whether its store already holds every change up to rv;
// callers that read one namespace should still use
// WaitForNamespaceResourceVersion, which waits for that namespace only.
func (c *Cache) WaitForResourceVersion(ctx context.Context, rv string) error {
	return c.waitForResourceVersion(ctx, c.informers, rv)
}

// WaitForNamespaceResourceVersion is WaitForResourceVersion for the reads of
// one namespace: it waits only for the informer that serves namespace
// ("" means every watched namespace). An unwatched namespace is an error of
// kind ErrNotFound.
func (c *Cache) WaitForNamespaceResourceVersion(ctx context.Context, namespace, rv string) error {
	if namespace == "" {
		return c.WaitForResourceVersion(ctx, rv)
	}
	ni, ok := c.informerFor(namespace)
	if !ok {
		return NamespaceNotWatched(namespace)
	}
	return c.waitForResourceVersion(ctx, []*namespaceInformer{ni}, rv)
}

func (c *Cache) waitForResourceVersion(ctx context.Context, informers []*namespaceInformer, rv string) error {
	want, ok := parseResourceVersion(rv)
	if !ok {
		return InvalidResourceVersion(rv)
	}
	if !c.HasSynced() {
		return NotSynced()
	}
	if err := c.refuseTooLarge(ctx, want, rv); err != nil {
		return err
	}
	start := time.Now()
	nextConfirm := start.Add(confirmDelay)
	var tick <-chan time.Time
	for {
		// Take the channel before checking, so a change in between is not
		// missed.
		changed := c.changes.wait()
		if minProgress(informers) >= want {
			return nil
		}
		// One informer per namespace: a quiet one may already be current.
		// (A single all-namespaces informer sees every change in order.)
		if c.byNamespace != nil && !time.Now().Before(nextConfirm) {
			c.confirmCaughtUp(ctx, informers, want)
			nextConfirm = time.Now().Add(confirmInterval)
			continue
		}
		if tick == nil {
			ticker := time.NewTicker(progressPollInterval)
			defer ticker.Stop()
			tick = ticker.C
		}
		select {
		case <-changed:
		case <-tick:
		case <-ctx.Done():
			return ResourceVersionTimeout(rv, minProgress(informers), time.Since(start))
		}
	}
}

// WaitForDeployment waits until the cached Deployment namespace/name has
// resourceVersion rv or later and returns it: read-your-writes after an
// update that returned rv. If the cache reaches rv and the Deployment is
// gone (deleted since), the error is of kind ErrNotFound. Other errors are
// as for WaitForResourceVersion.
func (c *Cache) WaitForDeployment(ctx context.Context, namespace, name, rv string) (*Deployment, error) {
	want, ok := parseResourceVersion(rv)
	if !ok {
		return nil, InvalidResourceVersion(rv)
	}
	ni, ok := c.informerFor(namespace)
	if !ok {
		return nil, NamespaceNotWatched(namespace)
	}
	if !c.HasSynced() {
		return nil, NotSynced()
	}
	start := time.Now()
	var tick <-chan time.Time
	for {
		changed := c.changes.wait()
		// Progress first: if it is past rv, the lookup after it is too.
		progress := ni.progress()
		d := ni.lookup(namespace, name)
		if d != nil {
			if have, ok := parseResourceVersion(d.ResourceVersion); ok && have >= want {
				return d, nil
			}
		}
		if progress >= want {
			if d == nil {
				return nil, NotFound(namespace, name)
			}
			return d, nil
		}
		if tick == nil {
			ticker := time.NewTicker(progressPollInterval)
			defer ticker.Stop()
			tick = ticker.C
		}
		select {
		case <-changed:
		case <-tick:
		case <-ctx.Done():
			return nil, ResourceVersionTimeout(rv, ni.progress(), time.Since(start))
		}
	}
}
