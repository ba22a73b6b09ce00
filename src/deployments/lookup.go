package deployments

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
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
func (ni *namespaceInformer) lookup(namespace, name string) *appsv1.Deployment {
	obj, exists, err := ni.informer.GetIndexer().GetByKey(namespace + "/" + name)
	if err != nil || !exists {
		// The thread-safe store never fails a GetByKey.
		return nil
	}
	d, _ := obj.(*appsv1.Deployment)
	return d
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
func (c *Cache) Get(namespace, name string) (*appsv1.Deployment, error) {
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
// The objects are shared with the cache and must not be modified.
func (c *Cache) List(namespace string, selector labels.Selector) ([]*appsv1.Deployment, error) {
	if namespace != "" && !c.Watches(namespace) {
		return nil, NamespaceNotWatched(namespace)
	}
	if !c.HasSynced() {
		return nil, NotSynced()
	}
	if selector == nil {
		selector = labels.Everything()
	}
	var out []*appsv1.Deployment
	switch {
	case namespace == "":
		for _, ni := range c.informers {
			out = appendMatching(out, ni.informer.GetIndexer().List(), selector)
		}
	case c.byNamespace == nil:
		objs, err := c.informers[0].informer.GetIndexer().ByIndex(cache.NamespaceIndex, namespace)
		if err != nil {
			// Only for an unknown index name, which would be a bug here.
			return nil, fmt.Errorf("deployment cache: list namespace %q: %w", namespace, err)
		}
		out = appendMatching(out, objs, selector)
	default:
		out = appendMatching(out, c.byNamespace[namespace].informer.GetIndexer().List(), selector)
	}
	if out == nil {
		return []*appsv1.Deployment{}, nil
	}
	slices.SortFunc(out, func(a, b *appsv1.Deployment) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out, nil
}

func appendMatching(out []*appsv1.Deployment, objs []any, selector labels.Selector) []*appsv1.Deployment {
	if out == nil {
		out = make([]*appsv1.Deployment, 0, len(objs))
	}
	matchAll := selector.Empty()
	for _, obj := range objs {
		d, ok := obj.(*appsv1.Deployment)
		if !ok || (!matchAll && !selector.Matches(labels.Set(d.Labels))) {
			continue
		}
		out = append(out, d)
	}
	return out
}
