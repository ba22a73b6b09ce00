package deployments

import (
	"k8s.io/apimachinery/pkg/labels"
)

// informerFor returns the informer that serves namespace.
func (c *Cache) informerFor(namespace string) (*namespaceInformer, bool) {
	if c.byNamespace == nil {
		return c.informers[0], true
	}
	ni, ok := c.byNamespace[namespace]
	return ni, ok
}

// lookup returns the cached namespace/name, or nil.
func (ni *namespaceInformer) lookup(namespace, name string) *Deployment {
	obj, exists, err := ni.informer.GetIndexer().GetByKey(namespace + "/" + name)
	if err != nil || !exists {
		// The thread-safe store never fails a GetByKey.
		return nil
	}
	return cached(obj)
}

// Watches reports whether namespace is served by this cache. The empty
// namespace counts as watched only when every namespace is.
func (c *Cache) Watches(namespace string) bool {
	if c.byNamespace == nil {
		return true
	}
	_, ok := c.byNamespace[namespace]
	return ok
}

// Get returns the cached Deployment namespace/name without calling the
// Kubernetes API. Errors: NamespaceNotWatched or NotFound (kind
// ErrNotFound), NotSynced (kind ErrNotSynced). The object is shared with
// the cache and must not be modified.
func (c *Cache) Get(namespace, name string) (*Deployment, error) {
	ni, ok := c.informerFor(namespace)
	if !ok {
		return nil, NamespaceNotWatched(namespace)
	}
	if !c.HasSynced() {
		return nil, NotSynced()
	}
	d := ni.lookup(namespace, name)
	if d == nil {
		return nil, NotFound(namespace, name)
	}
	return d, nil
}

// List returns the cached Deployments in namespace ("" = every watched
// namespace) whose labels match selector (nil = all), sorted by namespace
// then name; an empty, non-nil slice when none match. It never calls the
// Kubernetes API. Errors: NamespaceNotWatched (kind ErrNotFound), NotSynced.
//
// The sorting is kept between calls and redone only after a change (see
// sortedView), so a List of an unchanged cache costs no sort and, without
// a selector, no copy: the slice and the objects are shared with the cache
// and must not be modified.
func (c *Cache) List(namespace string, selector labels.Selector) ([]*Deployment, error) {
	if namespace != "" && !c.Watches(namespace) {
		return nil, NamespaceNotWatched(namespace)
	}
	if !c.HasSynced() {
		return nil, NotSynced()
	}
	var sorted []*Deployment
	switch {
	case c.byNamespace == nil:
		sorted = c.informers[0].sorted()
		if namespace != "" {
			sorted = namespaceRange(sorted, namespace)
		}
	case namespace != "":
		sorted = c.byNamespace[namespace].sorted()
	case len(c.informers) == 1:
		sorted = c.informers[0].sorted()
	default:
		// One informer per namespace, in namespace order: their sorted
		// views end to end are sorted.
		for _, ni := range c.informers {
			sorted = append(sorted, ni.sorted()...)
		}
	}
	if selector != nil && !selector.Empty() {
		out := make([]*Deployment, 0, len(sorted)/4)
		for _, d := range sorted {
			// A pointer, so that the interface holds no copy of the
			// slice header, which would be allocated per Deployment.
			if selector.Matches(&d.Labels) {
				out = append(out, d)
			}
		}
		sorted = out
	}
	if len(sorted) == 0 {
		return []*Deployment{}, nil
	}
	return sorted[:len(sorted):len(sorted)], nil
}
