package deployments

import (
	"context"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// apiCallTimeout bounds the Kubernetes API calls a wait makes for
	// itself, apart from the waiter's own deadline, since their answer is
	// shared with other waiters.
	apiCallTimeout = 5 * time.Second
	// currentRVInterval is the least time between two reads of the API's
	// current resourceVersion: a client sending huge minResourceVersions in
	// a loop costs the Kubernetes API at most one small list per interval.
	currentRVInterval = 200 * time.Millisecond
	// confirmDelay is how long a wait gives a lagging namespace to move on
	// by itself (the event of a write is usually milliseconds away) before
	// asking the API whether its store is already current; confirmInterval
	// is how often it asks again.
	confirmDelay    = progressPollInterval
	confirmInterval = time.Second
)

// rvSample is the Kubernetes API's resourceVersion and when the read of it
// started.
type rvSample struct {
	rv      uint64
	started time.Time
}

// newest is the largest resourceVersion any informer has reached.
func (c *Cache) newest() uint64 {
	var most uint64
	for _, ni := range c.informers {
		most = max(most, ni.progress())
	}
	return most
}

// refuseTooLarge returns ResourceVersionTooLarge when want is ahead of the
// Kubernetes API's current resourceVersion: no change has it yet, so no wait
// can reach it, and kube-apiserver answers a list asking for it the same
// way. The API is asked only when want is past everything the cache has
// seen, and once per currentRVInterval at most, whoever asks. When the API
// cannot say, the wait goes on as before and its deadline ends it.
func (c *Cache) refuseTooLarge(ctx context.Context, want uint64, rv string) error {
	if want <= c.newest() {
		return nil
	}
	current, err := c.apiResourceVersion(ctx)
	if err != nil {
		c.logger.Debug("cannot tell whether a resourceVersion is ahead of the Kubernetes API", "resourceVersion", rv, "error", err)
		return nil
	}
	if want > current {
		return ResourceVersionTooLarge(rv, current)
	}
	return nil
}

// apiResourceVersion returns the Kubernetes API's current resourceVersion,
// from a read that started after the call: a change that completed before
// it, such as a write through another replica, is not newer. Concurrent
// callers share one read.
func (c *Cache) apiResourceVersion(ctx context.Context) (uint64, error) {
	asked := time.Now()
	for {
		select {
		case res := <-c.currentRV.DoChan("", c.readAPIResourceVersion):
			if res.Err != nil {
				return 0, res.Err
			}
			// A read shared with a caller that started it earlier may
			// predate this call's reason to ask: read again. The next read
			// starts after this one ended, so this loops at most twice.
			if s := res.Val.(rvSample); !s.started.Before(asked) {
				return s.rv, nil
			}
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// readAPIResourceVersion lists at most one Deployment with a consistent
// read (resourceVersion ""), whose list resourceVersion is the API's
// current one.
func (c *Cache) readAPIResourceVersion() (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), apiCallTimeout)
	defer cancel()
	if err := c.currentRVLimit.Wait(ctx); err != nil {
		return nil, fmt.Errorf("read the Kubernetes API's resourceVersion: %w", err)
	}
	started := time.Now()
	// The first informer's namespace: listing all namespaces may not be
	// allowed with several --namespace.
	list, err := c.client.AppsV1().Deployments(c.informers[0].namespace).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return nil, fmt.Errorf("read the Kubernetes API's resourceVersion: %w", err)
	}
	v, ok := parseResourceVersion(list.ResourceVersion)
	if !ok {
		return nil, fmt.Errorf("read the Kubernetes API's resourceVersion: the list has resourceVersion %q", list.ResourceVersion)
	}
	return rvSample{rv: v, started: started}, nil
}

// confirmCaughtUp asks the API, for each of informers behind want, whether
// its store already holds every change up to want: a namespace without
// changes moves on only with a watch bookmark (about once a minute), long
// after a wait for a write in another namespace has given up. Waiters on
// the same namespace share one list.
func (c *Cache) confirmCaughtUp(ctx context.Context, informers []*namespaceInformer, want uint64) {
	for _, ni := range informers {
		if ni.progress() >= want {
			continue
		}
		select {
		case <-c.confirms.DoChan(ni.namespace, func() (any, error) { return nil, c.confirm(ni, want) }):
		case <-ctx.Done():
			return
		}
	}
}

// confirm lists ni's namespace from the API at resourceVersion want or
// later and, when the store holds what the list holds, records the list's
// resourceVersion as ni's progress: the store then has every change up to
// it, though no event or bookmark said so.
func (c *Cache) confirm(ni *namespaceInformer, want uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), apiCallTimeout)
	defer cancel()
	list, err := c.client.AppsV1().Deployments(ni.namespace).List(ctx, metav1.ListOptions{
		ResourceVersion:      strconv.FormatUint(want, 10),
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
	})
	if err != nil {
		c.logger.Debug("cannot confirm that a namespace's cache is current", "namespace", ni.namespace, "error", err)
		return err
	}
	if at, ok := parseResourceVersion(list.ResourceVersion); ok && at >= want && ni.holds(list.Items, at) {
		c.observe(ni, list.ResourceVersion)
	}
	return nil
}

// holds reports whether ni's store has every change of its namespace up to
// resourceVersion at, given items, the namespace's Deployments listed at
// at: each listed object is in the store at its listed version or newer,
// and every stored object the list lacks is newer than the list (created
// since) rather than deleted.
func (ni *namespaceInformer) holds(items []appsv1.Deployment, at uint64) bool {
	listed := make(map[string]bool, len(items))
	for i := range items {
		d := &items[i]
		listed[d.Name] = true
		stored := ni.lookup(d.Namespace, d.Name)
		if stored == nil || !notOlder(stored.ResourceVersion, d.ResourceVersion) {
			return false
		}
	}
	for _, obj := range ni.informer.GetIndexer().List() {
		d := cached(obj)
		if d == nil || listed[d.Name] {
			continue
		}
		if v, ok := parseResourceVersion(d.ResourceVersion); !ok || v <= at {
			return false
		}
	}
	return true
}

// notOlder reports whether resourceVersion have is at least want.
func notOlder(have, want string) bool {
	h, ok1 := parseResourceVersion(have)
	w, ok2 := parseResourceVersion(want)
	return ok1 && ok2 && h >= w
}
