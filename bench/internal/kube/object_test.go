package kube

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNames(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		index int
		ok    bool
	}{
		{name: "seeded", in: Name(42), index: 42, ok: true},
		{name: "large", in: Name(49999), index: 49999, ok: true},
		{name: "other prefix", in: "web-00001", ok: false},
		{name: "not zero-padded", in: "bench-1", ok: false},
		{name: "not a number", in: "bench-abcde", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, ok := index(tt.in)
			if ok != tt.ok || (ok && i != tt.index) {
				t.Errorf("index(%q) = %d, %v; want %d, %v", tt.in, i, ok, tt.index, tt.ok)
			}
		})
	}
	if Band(999) != "b000" || Band(1000) != "b001" || Band(49999) != "b049" {
		t.Errorf("bands: %s %s %s", Band(999), Band(1000), Band(49999))
	}
}

func TestDeploymentIsRealistic(t *testing.T) {
	tests := []struct {
		name     string
		i        int
		replicas int32
		paused   bool
	}{
		{name: "live", i: 0, replicas: LiveReplicas, paused: false},
		{name: "paused", i: LiveDeployments, replicas: 0, paused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Deployment(tt.i)
			if *d.Spec.Replicas != tt.replicas || d.Spec.Paused != tt.paused {
				t.Errorf("replicas %d paused %v, want %d %v", *d.Spec.Replicas, d.Spec.Paused, tt.replicas, tt.paused)
			}
			applied := d.Annotations["kubectl.kubernetes.io/last-applied-configuration"]
			var obj map[string]any
			if err := json.Unmarshal([]byte(applied), &obj); err != nil || obj["kind"] != "Deployment" {
				t.Errorf("last-applied annotation is not the applied Deployment: %v %.80s", err, applied)
			}
			if d.Labels[BandLabel] != Band(tt.i) || d.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != Name(tt.i) {
				t.Errorf("labels %v, selector %v", d.Labels, d.Spec.Selector.MatchLabels)
			}
			if _, ok := d.Spec.Template.Labels[BandLabel]; ok {
				t.Error("the band label reached the pod template")
			}
			if len(d.Spec.Template.Spec.Containers) != 1 || d.Spec.Template.Spec.Containers[0].ReadinessProbe == nil {
				t.Error("the pod template lacks its container or probes")
			}
		})
	}
}

func TestSettledStatus(t *testing.T) {
	d := Deployment(LiveDeployments)
	d.Generation = 3
	s := SettledStatus(d, metav1.Now())
	if s.ObservedGeneration != 3 || s.TerminatingReplicas == nil || *s.TerminatingReplicas != 0 || len(s.Conditions) != 2 {
		t.Errorf("status %+v", s)
	}
	for _, c := range s.Conditions {
		if c.Reason != "MinimumReplicasAvailable" && c.Reason != "DeploymentPaused" {
			t.Errorf("condition %+v is not what the deployment controller writes for a paused Deployment", c)
		}
	}
}
