package deployments

import appsv1 "k8s.io/api/apps/v1"

// Replicas returns the desired replica count of d: spec.replicas, where an
// unset value means 1 as the API server defaults it.
func Replicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}
