package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// manifest is a trimmed `helm template` output of the chart: the objects
// around the Deployment, and the Deployment with what chartrun reads.
const manifest = `---
# Source: replicasd/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: rel
  namespace: ns1
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: rel
rules: []
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rel
  namespace: ns1
spec:
  replicas: 2
  selector: {matchLabels: {app: x}}
  template:
    metadata:
      annotations:
        kubectl.kubernetes.io/default-container: replicasd
    spec:
      serviceAccountName: rel-sa
      terminationGracePeriodSeconds: 30
      containers:
        - name: sidecar
          image: other
        - name: replicasd
          image: img
          args:
            - --listen-address=:8443
            - --ops-address=:9090
            - --tls-cert-file=/etc/replicasd/tls/tls.crt
            - --client-ca-file
            - /etc/replicasd/client-ca/ca.crt
            - --log-level=info
          env:
            - name: PLAIN
              value: "1"
            - name: NS
              valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
          ports:
            - {name: api, containerPort: 8443}
            - {name: ops, containerPort: 9090}
          startupProbe:
            httpGet: {path: /readyz, port: ops}
            periodSeconds: 2
            failureThreshold: 30
          volumeMounts:
            - {name: kube-api-access, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}
            - {name: tls, mountPath: /etc/replicasd/tls}
            - {name: client-ca, mountPath: /etc/replicasd/client-ca}
      volumes:
        - name: kube-api-access
          projected:
            defaultMode: 0444
            sources:
              - serviceAccountToken: {path: token, expirationSeconds: 3607}
              - configMap:
                  name: kube-root-ca.crt
                  items: [{key: ca.crt, path: ca.crt}]
              - downwardAPI:
                  items: [{path: namespace, fieldRef: {fieldPath: metadata.namespace}}]
        - name: tls
          secret: {secretName: rel-tls, defaultMode: 0440}
        - name: client-ca
          secret: {secretName: rel-ca}
`

func TestParseManifestSplitsTheDeploymentFromTheObjectsToApply(t *testing.T) {
	m, err := parseManifest(strings.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Objects) != 2 {
		t.Fatalf("objects to apply: got %d, want 2 (ServiceAccount, ClusterRole)", len(m.Objects))
	}
	for _, o := range m.Objects {
		if strings.Contains(string(o), "kind: Deployment") {
			t.Errorf("the Deployment must not be applied: %s", o)
		}
	}
	p := m.Pod
	if p.Namespace != "ns1" || p.ServiceAccount != "rel-sa" || p.Replicas != 2 {
		t.Errorf("pod: namespace %q, service account %q, replicas %d", p.Namespace, p.ServiceAccount, p.Replicas)
	}
	if p.Container.Name != "replicasd" {
		t.Errorf("container: got %q, want the default-container replicasd", p.Container.Name)
	}
	if p.GracePeriod.Seconds() != 30 {
		t.Errorf("grace period: %v", p.GracePeriod)
	}
}

func TestParseManifestWithoutADeploymentFails(t *testing.T) {
	_, err := parseManifest(strings.NewReader("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\n"))
	if err == nil || !strings.Contains(err.Error(), "no Deployment") {
		t.Fatalf("got %v, want an error naming the missing Deployment", err)
	}
}

// fakeCluster answers what the kubelet would read from the API.
type fakeCluster struct{ tokens []string }

func (f *fakeCluster) Secret(ns, name string) (map[string][]byte, error) {
	return map[string][]byte{"tls.crt": []byte("crt of " + ns + "/" + name), "ca.crt": []byte("ca of " + name)}, nil
}

func (f *fakeCluster) ConfigMap(ns, name string) (map[string][]byte, error) {
	return map[string][]byte{"ca.crt": []byte("cluster ca"), "other": []byte("x")}, nil
}

func (f *fakeCluster) Token(ns, sa string, seconds int64, audience string) (string, error) {
	tok := "token-for-" + ns + "/" + sa
	f.tokens = append(f.tokens, tok)
	return tok, nil
}

func TestMaterializeWritesTheMountsAndRewritesOnlyPathsAndPorts(t *testing.T) {
	m, err := parseManifest(strings.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	c := &fakeCluster{}
	r, err := materialize(m.Pod, c, "rel-0", root, map[int32]int{8443: 18443, 9090: 19090})
	if err != nil {
		t.Fatal(err)
	}
	mnt := func(p string) string { return filepath.Join(root, "mounts", p) }
	want := []string{
		"--listen-address=127.0.0.1:18443",
		"--ops-address=127.0.0.1:19090",
		"--tls-cert-file=" + mnt("/etc/replicasd/tls/tls.crt"),
		"--client-ca-file",
		mnt("/etc/replicasd/client-ca/ca.crt"),
		"--log-level=info",
	}
	if !reflect.DeepEqual(r.Args, want) {
		t.Errorf("args:\n got %q\nwant %q", r.Args, want)
	}
	files := map[string]string{
		"/etc/replicasd/tls/tls.crt":                              "crt of ns1/rel-tls",
		"/etc/replicasd/client-ca/ca.crt":                         "ca of rel-ca",
		"/var/run/secrets/kubernetes.io/serviceaccount/token":     "token-for-ns1/rel-sa",
		"/var/run/secrets/kubernetes.io/serviceaccount/ca.crt":    "cluster ca",
		"/var/run/secrets/kubernetes.io/serviceaccount/namespace": "ns1",
	}
	for p, content := range files {
		b, err := os.ReadFile(mnt(p))
		if err != nil || string(b) != content {
			t.Errorf("%s: got %q (%v), want %q", p, b, err, content)
		}
	}
	if _, err := os.Stat(mnt("/var/run/secrets/kubernetes.io/serviceaccount/other")); err == nil {
		t.Errorf("projected configMap items select keys: 'other' must not be written")
	}
	st, err := os.Stat(mnt("/etc/replicasd/tls/tls.crt"))
	if err != nil || st.Mode().Perm() != 0o440 {
		t.Errorf("secret defaultMode 0440: got %v (%v)", st.Mode().Perm(), err)
	}
	if !reflect.DeepEqual(r.Env, []string{"PLAIN=1", "NS=ns1", "KUBECONFIG=" + filepath.Join(root, "kubeconfig")}) {
		t.Errorf("env: %q", r.Env)
	}
	if r.TokenFile != mnt("/var/run/secrets/kubernetes.io/serviceaccount/token") || r.CAFile != mnt("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt") {
		t.Errorf("in-cluster credentials: token %q, ca %q", r.TokenFile, r.CAFile)
	}
	if r.ReadyURL != "http://127.0.0.1:19090/readyz" || r.ReadyTimeout.Seconds() != 60 {
		t.Errorf("startup probe: %q within %v", r.ReadyURL, r.ReadyTimeout)
	}
}

func TestMaterializeRefusesWhatItCannotStandInFor(t *testing.T) {
	bad := strings.Replace(manifest, "secret: {secretName: rel-ca}", "hostPath: {path: /etc}", 1)
	m, err := parseManifest(strings.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	_, err = materialize(m.Pod, &fakeCluster{}, "rel-0", t.TempDir(), map[int32]int{8443: 1, 9090: 2})
	if err == nil || !strings.Contains(err.Error(), "client-ca") {
		t.Fatalf("got %v, want an error naming the volume it cannot provide", err)
	}
}
