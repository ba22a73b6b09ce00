package deployments

// Observer receives the cache's events, so that a metrics package can count
// them without this package depending on Prometheus. Every field is optional.
// The functions run on the informers' notification goroutines: they must be
// quick and must not modify the objects, which are shared with the cache.
type Observer struct {
	// OnAdd is called for each Deployment added to the cache; initialList
	// is true for those that came with the initial list.
	OnAdd func(d *Deployment, initialList bool)
	// OnUpdate is called for each change of a cached Deployment.
	OnUpdate func(oldObj, newObj *Deployment)
	// OnDelete is called for each Deployment removed from the cache. For a
	// deletion the watch missed, d is the last state the cache knew.
	OnDelete func(d *Deployment)
	// OnWatchError is called for each failed list or watch call; namespace
	// is "" for the all-namespaces informer.
	OnWatchError func(namespace string, err error)
}
