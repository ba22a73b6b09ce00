package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// kubectl is the cluster as the admin's kubectl sees it (KUBECONFIG).
type kubectl struct{ bin string }

func (k kubectl) run(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(k.bin, args...) // #nosec G204 -- kubectl, with arguments this program builds
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// get reads one object, waiting for it as the kubelet would (the
// namespace's kube-root-ca.crt appears shortly after the namespace).
func (k kubectl) get(kind, namespace, name string, into any) error {
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), time.Second, 60*time.Second, true, func(context.Context) (bool, error) {
		out, err := k.run(nil, "get", kind, name, "--namespace", namespace, "--output", "json")
		if err != nil {
			last = err
			return false, nil
		}
		return true, json.Unmarshal(out, into)
	})
	if err != nil && last != nil {
		return fmt.Errorf("%w (last error: %w)", err, last)
	}
	return err
}

func (k kubectl) Secret(namespace, name string) (map[string][]byte, error) {
	var s corev1.Secret
	if err := k.get("secret", namespace, name, &s); err != nil {
		return nil, err
	}
	return s.Data, nil
}

func (k kubectl) ConfigMap(namespace, name string) (map[string][]byte, error) {
	var cm corev1.ConfigMap
	if err := k.get("configmap", namespace, name, &cm); err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for key, v := range cm.Data {
		data[key] = []byte(v)
	}
	for key, v := range cm.BinaryData {
		data[key] = v
	}
	return data, nil
}

func (k kubectl) Token(namespace, serviceAccount string, seconds int64, audience string) (string, error) {
	args := []string{"create", "token", serviceAccount, "--namespace", namespace, fmt.Sprintf("--duration=%ds", seconds)}
	if audience != "" {
		args = append(args, "--audience", audience)
	}
	out, err := k.run(nil, args...)
	return strings.TrimSpace(string(out)), err
}

// apply creates or updates the objects, as `kubectl apply` does.
func (k kubectl) apply(namespace string, objects [][]byte) error {
	_, err := k.run(bytes.Join(objects, []byte("\n---\n")), "apply", "--namespace", namespace, "--filename", "-")
	return err
}
