package deployments

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// sortedView is an informer's Deployments sorted by namespace then name,
// kept between Lists so that a List does not sort the whole cache again
// while nothing changed. It is rebuilt by the first List after a change.
//
// A view is current while both of its tokens still hold: the store's
// resourceVersion, which the store moves under its own lock in the same
// step as every change that carries an object, so a List that follows a
// change visible in the store (for example a PUT's read-your-writes wait)
// never gets an older view; and the event handler's generation, which
// also covers the deletions that carry no resourceVersion (a relist's
// tombstones). Without a store resourceVersion (client-go's AtomicFIFO
// feature off) views are not kept.
type sortedView struct {
	mu  sync.Mutex // serialises rebuilds, so concurrent Lists sort once
	cur atomic.Pointer[snapshot]
	gen atomic.Uint64 // moved by every event handler call
}

type snapshot struct {
	storeRV string
	gen     uint64
	items   []*Deployment
}

// changed invalidates the view; event handlers call it, after the store
// changed and before anyone is told about the change.
func (v *sortedView) changed() { v.gen.Add(1) }

// sorted returns ni's Deployments, sorted. The slice is shared: callers
// must not modify it.
func (ni *namespaceInformer) sorted() []*Deployment {
	v := &ni.view
	store := ni.informer.GetIndexer()
	if s := v.cur.Load(); s != nil && s.storeRV != "" && s.storeRV == store.LastStoreSyncResourceVersion() && s.gen == v.gen.Load() {
		return s.items
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	// The tokens first: a change that lands while the list is read makes
	// the view look stale at once, never current while it is not.
	gen, storeRV := v.gen.Load(), store.LastStoreSyncResourceVersion()
	if s := v.cur.Load(); s != nil && storeRV != "" && s.storeRV == storeRV && s.gen == gen {
		return s.items // built by the List this one waited for
	}
	objs := store.List()
	items := make([]*Deployment, 0, len(objs))
	for _, obj := range objs {
		if d := cached(obj); d != nil {
			items = append(items, d)
		}
	}
	slices.SortFunc(items, compareDeployments)
	v.cur.Store(&snapshot{storeRV: storeRV, gen: gen, items: items})
	return items
}

func compareDeployments(a, b *Deployment) int {
	return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
}

// namespaceRange returns the Deployments of namespace in sorted, a slice of
// it with its capacity clipped, so that an append by a caller copies
// instead of overwriting the shared view.
func namespaceRange(sorted []*Deployment, namespace string) []*Deployment {
	lo, _ := slices.BinarySearchFunc(sorted, namespace, func(d *Deployment, ns string) int {
		return strings.Compare(d.Namespace, ns)
	})
	// The end: the first Deployment of a later namespace.
	n, _ := slices.BinarySearchFunc(sorted[lo:], namespace, func(d *Deployment, ns string) int {
		if d.Namespace <= ns {
			return -1
		}
		return 1
	})
	hi := lo + n
	return sorted[lo:hi:hi]
}
