package deployments

import (
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// StripDeployment is the informer transform: it keeps only what replicasd
// serves (identity, labels for selectors, resourceVersion for ETags,
// creationTimestamp for AGE, spec.replicas and the status counts) and drops
// everything else, above all managedFields, annotations (which often hold a
// whole last-applied copy) and the pod template. On clusters with many
// Deployments this is most of the informer's memory.
//
// It accepts *appsv1.Deployment and cache.DeletedFinalStateUnknown (whose
// Obj is stripped); anything else is returned unchanged. It is idempotent,
// as client-go requires, and mutates in place, which client-go allows since
// v1.27 because the transform sees each object before anyone else.
func StripDeployment(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		stripDeployment(o)
		return o, nil
	case cache.DeletedFinalStateUnknown:
		if d, ok := o.Obj.(*appsv1.Deployment); ok {
			stripDeployment(d)
		}
		return o, nil
	default:
		// Returning an error would make the reflector drop its watch and
		// relist forever; an unexpected type is better left to the informer.
		return obj, nil
	}
}

func stripDeployment(d *appsv1.Deployment) {
	d.ObjectMeta = metav1.ObjectMeta{
		Name:              d.Name,
		Namespace:         d.Namespace,
		UID:               d.UID,
		ResourceVersion:   d.ResourceVersion,
		Generation:        d.Generation,
		CreationTimestamp: d.CreationTimestamp,
		Labels:            d.Labels,
	}
	d.Spec = appsv1.DeploymentSpec{Replicas: d.Spec.Replicas}
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration:  d.Status.ObservedGeneration,
		Replicas:            d.Status.Replicas,
		UpdatedReplicas:     d.Status.UpdatedReplicas,
		ReadyReplicas:       d.Status.ReadyReplicas,
		AvailableReplicas:   d.Status.AvailableReplicas,
		UnavailableReplicas: d.Status.UnavailableReplicas,
	}
}
