package deployments

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/client-go/tools/cache"
)

// StripDeployment is the informer transform: it turns each *appsv1.Deployment
// into the compact *Deployment the cache keeps (FromAPI), with only what
// replicasd serves: identity, labels for selectors, resourceVersion for
// ETags, creationTimestamp, spec.replicas and the status counts. Everything
// else goes, above all managedFields, annotations (which often hold a whole
// last-applied copy) and the pod template. On clusters with many
// Deployments this is most of the informer's memory.
//
// It accepts *appsv1.Deployment and cache.DeletedFinalStateUnknown (whose
// Obj is converted); anything else, *Deployment included, is returned
// unchanged, so it is idempotent as client-go requires.
func StripDeployment(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return FromAPI(o), nil
	case cache.DeletedFinalStateUnknown:
		if d, ok := o.Obj.(*appsv1.Deployment); ok {
			o.Obj = FromAPI(d)
		}
		return o, nil
	default:
		// Returning an error would make the reflector drop its watch and
		// relist forever; an unexpected type is better left to the informer.
		return obj, nil
	}
}

// cached returns obj, an object from the informer, as a *Deployment: as
// it is with the transform on, converted when DisableTransform keeps whole
// API objects (benchmarks only). Nil for anything else.
func cached(obj any) *Deployment {
	switch o := obj.(type) {
	case *Deployment:
		return o
	case *appsv1.Deployment:
		return FromAPI(o)
	default:
		return nil
	}
}
