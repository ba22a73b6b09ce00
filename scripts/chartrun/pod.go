package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// rendered is what chartrun takes from `helm template`: the objects it
// applies to the cluster, and the pod the Deployment would run.
type rendered struct {
	// Objects are every rendered object but the Deployment, as YAML.
	Objects [][]byte
	Pod     *pod
}

// pod is the Deployment's pod template, reduced to what a local process
// needs to run as its server container would.
type pod struct {
	Namespace      string
	ServiceAccount string
	Replicas       int
	GracePeriod    time.Duration
	Container      corev1.Container
	Volumes        map[string]corev1.Volume
}

// parseManifest reads a multi-document manifest. It needs exactly one
// Deployment.
func parseManifest(r io.Reader) (*rendered, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	out := &rendered{}
	var deployments []*appsv1.Deployment
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the manifest: %w", err)
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("parsing a manifest document: %w", err)
		}
		switch meta.Kind {
		case "":
			continue // comments only
		case "Deployment":
			d := &appsv1.Deployment{}
			if err := yaml.UnmarshalStrict(doc, d); err != nil {
				return nil, fmt.Errorf("parsing the Deployment: %w", err)
			}
			deployments = append(deployments, d)
		default:
			out.Objects = append(out.Objects, bytes.TrimSpace(doc))
		}
	}
	if len(deployments) != 1 {
		return nil, fmt.Errorf("the manifest has %d Deployments, want one (no Deployment: is it the chart's output?)", len(deployments))
	}
	p, err := podOf(deployments[0])
	if err != nil {
		return nil, err
	}
	out.Pod = p
	return out, nil
}

// podOf picks the server container: the one the default-container
// annotation names (what `kubectl logs` picks), or the only one.
func podOf(d *appsv1.Deployment) (*pod, error) {
	spec := d.Spec.Template.Spec
	p := &pod{
		Namespace:      d.Namespace,
		ServiceAccount: spec.ServiceAccountName,
		Replicas:       1,
		GracePeriod:    30 * time.Second,
		Volumes:        map[string]corev1.Volume{},
	}
	if p.ServiceAccount == "" {
		p.ServiceAccount = "default"
	}
	if d.Spec.Replicas != nil {
		p.Replicas = int(*d.Spec.Replicas)
	}
	if spec.TerminationGracePeriodSeconds != nil {
		p.GracePeriod = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	}
	for _, v := range spec.Volumes {
		p.Volumes[v.Name] = v
	}
	want := d.Spec.Template.Annotations["kubectl.kubernetes.io/default-container"]
	for _, c := range spec.Containers {
		if c.Name == want || (want == "" && len(spec.Containers) == 1) {
			p.Container = c
			return p, nil
		}
	}
	return nil, fmt.Errorf("deployment %s: no container %q among %d", d.Name, want, len(spec.Containers))
}
