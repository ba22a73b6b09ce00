package deployments

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/tools/cache"
)

// eventHandler tracks the resourceVersions ni delivers, marks List's sorted
// view stale, wakes waiters, and passes each event to the Observer.
func (c *Cache) eventHandler(ni *namespaceInformer) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, isInInitialList bool) {
			// The store has changed: List's sorted view is stale.
			ni.view.changed()
			d, ok := obj.(*appsv1.Deployment)
			if !ok {
				return
			}
			c.observe(ni, d.ResourceVersion)
			if c.observer.OnAdd != nil {
				c.observer.OnAdd(d, isInInitialList)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			ni.view.changed()
			oldD, ok1 := oldObj.(*appsv1.Deployment)
			newD, ok2 := newObj.(*appsv1.Deployment)
			if !ok1 || !ok2 {
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
			d, ok := obj.(*appsv1.Deployment)
			if !ok {
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
