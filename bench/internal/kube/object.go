// Package kube talks to the benchmark's Kubernetes cluster: client
// configuration, the client certificate for kube-apiserver, seeding
// Deployments.
package kube

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Namespace holds the seeded Deployments.
const Namespace = "bench"

// LiveDeployments is how many of the seeded Deployments (the first ones)
// run real (fake-node) pods; every other one is paused at zero replicas, so
// seeding 10k Deployments creates no ReplicaSets or pods and leaves the
// controller-manager nothing to write.
const LiveDeployments = 5

// LiveReplicas is the replica count of the live Deployments.
const LiveReplicas = 2

// BandLabel groups the seeded Deployments by thousands (band b003 holds
// 3000-3999), so that shrinking the set deletes whole bands in one
// DeleteCollection request each.
const BandLabel = "bench.replicasd.io/band"

// Band is the BandLabel value of the i-th seeded Deployment.
func Band(i int) string { return fmt.Sprintf("b%03d", i/1000) }

// Name is the name of the i-th seeded Deployment.
func Name(i int) string { return fmt.Sprintf("bench-%05d", i) }

var (
	teams = []string{"payments", "search", "checkout", "identity", "catalog", "billing", "ml", "platform"}
	tiers = []string{"frontend", "backend", "worker"}
)

// Deployment returns the i-th seeded Deployment as a user would apply it
// with kubectl: labels, the last-applied annotation (a whole copy of the
// object, as kubectl apply writes it), a pod template with probes,
// resources and environment. The API server adds managedFields.
func Deployment(i int) *appsv1.Deployment {
	name := Name(i)
	replicas := int32(0)
	paused := true
	if i < LiveDeployments {
		replicas, paused = LiveReplicas, false
	}
	labels := map[string]string{
		"app.kubernetes.io/name":    name,
		"app.kubernetes.io/part-of": "replicasd-bench",
		"team":                      teams[i%len(teams)],
		"tier":                      tiers[i%len(tiers)],
	}
	d := &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   Namespace,
			Labels:      withBand(labels, i),
			Annotations: map[string]string{"bench.replicasd.io/owner": teams[i%len(teams)] + "@example.com"},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Paused:   paused,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{
					Labels:      labels,
					Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
				},
				Spec: podSpec(name, i),
			},
		},
	}
	applied, _ := json.Marshal(d) // a Deployment always marshals
	d.Annotations["kubectl.kubernetes.io/last-applied-configuration"] = string(applied) + "\n"
	d.TypeMeta = metav1.TypeMeta{}
	return d
}

func withBand(labels map[string]string, i int) map[string]string {
	out := map[string]string{BandLabel: Band(i)}
	for k, v := range labels {
		out[k] = v
	}
	return out
}

func podSpec(name string, i int) corev1.PodSpec {
	probe := func(path string, delay int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: path, Port: intstr.FromString("http"),
			}},
			InitialDelaySeconds: delay, PeriodSeconds: 10, TimeoutSeconds: 1,
		}
	}
	return corev1.PodSpec{
		ServiceAccountName: "default",
		Containers: []corev1.Container{{
			Name:  "app",
			Image: fmt.Sprintf("registry.example.com/%s/%s:1.%d.%d", teams[i%len(teams)], name, i%7, i%13),
			Args:  []string{"--listen=:8080", "--log-format=json", "--shutdown-grace=20s"},
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
			Env: []corev1.EnvVar{
				{Name: "APP_NAME", Value: name},
				{Name: "APP_ENV", Value: "production"},
				{Name: "GOMAXPROCS", Value: "2"},
				{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("100m"),
					corev1.ResourceMemory: resource.MustParse("128Mi"),
				},
				Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
			},
			ReadinessProbe: probe("/readyz", 2),
			LivenessProbe:  probe("/livez", 10),
		}},
	}
}

// SettledStatus is the status the deployment controller computes for a
// paused Deployment at zero replicas with no ReplicaSet. Setting it at
// seeding time leaves the controller nothing to write: its status update
// is skipped when the status it computes is already there.
func SettledStatus(d *appsv1.Deployment, now metav1.Time) appsv1.DeploymentStatus {
	zero := int32(0)
	return appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		TerminatingReplicas: &zero,
		Conditions: []appsv1.DeploymentCondition{
			{
				Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
				LastUpdateTime: now, LastTransitionTime: now,
				Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability.",
			},
			{
				Type: appsv1.DeploymentProgressing, Status: corev1.ConditionUnknown,
				LastUpdateTime: now, LastTransitionTime: now,
				Reason: "DeploymentPaused", Message: "Deployment is paused",
			},
		},
	}
}
