package deployments

import (
	"k8s.io/client-go/tools/cache"
)

// eventHandler tracks the resourceVersions ni delivers, marks List's sorted
// view stale, wakes waiters, and passes each event to the Observer.
func (c *Cache) eventHandler(ni *namespaceInformer) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, isInInitialList bool) {
			// The store has changed: List's sorted view is stale.
			ni.view.changed()
			d := cached(obj)
			if d == nil {
				return
			}
			c.observe(ni, d.ResourceVersion)
			if c.observer.OnAdd != nil {
				c.observer.OnAdd(d, isInInitialList)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			ni.view.changed()
			oldD, newD := cached(oldObj), cached(newObj)
			if oldD == nil || newD == nil {
				return
			}
			c.observe(ni, newD.ResourceVersion)
			if c.observer.OnUpdate != nil {
				c.observer.OnUpdate(oldD, newD)
			}
		},
		DeleteFunc: func(obj any) {
			ni.view.changed()
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				// The watch missed the deletion and a relist found it gone;
				// the relist's resourceVersion is in the store already.
				obj = tombstone.Obj
			}
			d := cached(obj)
			if d == nil {
				return
			}
			// A delete notification carries the resourceVersion at which
			// the object is gone, so it moves the cache forward too.
			c.observe(ni, d.ResourceVersion)
			if c.observer.OnDelete != nil {
				c.observer.OnDelete(d)
			}
		},
	}
}
