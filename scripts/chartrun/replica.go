package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// cluster is what the kubelet reads from the API to fill a pod's volumes.
type cluster interface {
	Secret(namespace, name string) (map[string][]byte, error)
	ConfigMap(namespace, name string) (map[string][]byte, error)
	// Token is a bound ServiceAccount token, as a projected volume gets.
	Token(namespace, serviceAccount string, seconds int64, audience string) (string, error)
}

// replica is one pod of the Deployment as a local process: the container's
// args and env with each mount path replaced by the directory standing in
// for it, and each container port by a loopback port.
type replica struct {
	Name string
	Root string
	Args []string
	Env  []string
	// TokenFile and CAFile are the ServiceAccount volume's files, the
	// in-cluster credentials client-go would read.
	TokenFile, CAFile string
	// Ports maps each containerPort to its loopback port.
	Ports        map[int32]int
	ReadyURL     string
	ReadyTimeout time.Duration
}

const serviceAccountMount = "/var/run/secrets/kubernetes.io/serviceaccount"

// materialize writes the container's volumes under root/mounts, as the
// kubelet would, and computes the command line and environment.
func materialize(p *pod, c cluster, name, root string, ports map[int32]int) (*replica, error) {
	r := &replica{Name: name, Root: root, Ports: ports}
	mounts := map[string]string{}
	for _, m := range p.Container.VolumeMounts {
		v, ok := p.Volumes[m.Name]
		if !ok {
			return nil, fmt.Errorf("volume mount %s: no volume of that name", m.Name)
		}
		dir := filepath.Join(root, "mounts", m.MountPath)
		files, mode, err := volumeFiles(p, c, name, v)
		if err != nil {
			return nil, fmt.Errorf("volume %s (mounted at %s): %w", m.Name, m.MountPath, err)
		}
		if err := writeFiles(dir, files, mode); err != nil {
			return nil, err
		}
		mounts[m.MountPath] = dir
	}
	if dir, ok := mounts[serviceAccountMount]; ok {
		r.TokenFile, r.CAFile = filepath.Join(dir, "token"), filepath.Join(dir, "ca.crt")
	}
	for _, a := range p.Container.Args {
		r.Args = append(r.Args, rewriteArg(a, mounts, ports))
	}
	for _, e := range p.Container.Env {
		v, err := envValue(p, name, e)
		if err != nil {
			return nil, err
		}
		r.Env = append(r.Env, e.Name+"="+v)
	}
	r.Env = append(r.Env, "KUBECONFIG="+filepath.Join(root, "kubeconfig"))
	return r, probe(p, r)
}

// probe reads the startup probe (else the readiness probe): the URL that
// says the server is ready, and how long the kubelet would wait for it.
func probe(p *pod, r *replica) error {
	pr := p.Container.StartupProbe
	if pr == nil {
		pr = p.Container.ReadinessProbe
	}
	if pr == nil || pr.HTTPGet == nil {
		return fmt.Errorf("container %s has no HTTP startup or readiness probe to wait on", p.Container.Name)
	}
	port := pr.HTTPGet.Port.IntVal
	for _, cp := range p.Container.Ports {
		if pr.HTTPGet.Port.StrVal != "" && cp.Name == pr.HTTPGet.Port.StrVal {
			port = cp.ContainerPort
		}
	}
	local, ok := r.Ports[port]
	if !ok {
		return fmt.Errorf("probe port %s is not a container port", pr.HTTPGet.Port.String())
	}
	r.ReadyURL = fmt.Sprintf("http://127.0.0.1:%d%s", local, pr.HTTPGet.Path)
	period, failures := pr.PeriodSeconds, pr.FailureThreshold
	if period == 0 {
		period = 10 // the API's defaults
	}
	if failures == 0 {
		failures = 3
	}
	r.ReadyTimeout = time.Duration(pr.InitialDelaySeconds+period*failures) * time.Second
	return nil
}

// volumeFiles returns what the kubelet would put in the volume, and its mode.
func volumeFiles(p *pod, c cluster, podName string, v corev1.Volume) (map[string][]byte, os.FileMode, error) {
	switch {
	case v.Secret != nil:
		data, err := c.Secret(p.Namespace, v.Secret.SecretName)
		return pick(data, v.Secret.Items), mode(v.Secret.DefaultMode), err
	case v.ConfigMap != nil:
		data, err := c.ConfigMap(p.Namespace, v.ConfigMap.Name)
		return pick(data, v.ConfigMap.Items), mode(v.ConfigMap.DefaultMode), err
	case v.EmptyDir != nil:
		return nil, 0o755, nil
	case v.Projected != nil:
		files, err := projectedFiles(p, c, podName, v.Projected.Sources)
		return files, mode(v.Projected.DefaultMode), err
	}
	return nil, 0, fmt.Errorf("chartrun cannot stand in for this kind of volume (secret, configMap, emptyDir and projected only)")
}

func projectedFiles(p *pod, c cluster, podName string, sources []corev1.VolumeProjection) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, s := range sources {
		var part map[string][]byte
		var err error
		switch {
		case s.ServiceAccountToken != nil:
			var tok string
			seconds := int64(3600)
			if s.ServiceAccountToken.ExpirationSeconds != nil {
				seconds = *s.ServiceAccountToken.ExpirationSeconds
			}
			tok, err = c.Token(p.Namespace, p.ServiceAccount, seconds, s.ServiceAccountToken.Audience)
			part = map[string][]byte{s.ServiceAccountToken.Path: []byte(tok)}
		case s.Secret != nil:
			part, err = c.Secret(p.Namespace, s.Secret.Name)
			part = pick(part, s.Secret.Items)
		case s.ConfigMap != nil:
			part, err = c.ConfigMap(p.Namespace, s.ConfigMap.Name)
			part = pick(part, s.ConfigMap.Items)
		case s.DownwardAPI != nil:
			part = map[string][]byte{}
			for _, item := range s.DownwardAPI.Items {
				var v string
				if v, err = fieldValue(p, podName, item.FieldRef); err != nil {
					break
				}
				part[item.Path] = []byte(v)
			}
		default:
			err = fmt.Errorf("unsupported projected source")
		}
		if err != nil {
			return nil, err
		}
		for k, v := range part {
			files[k] = v
		}
	}
	return files, nil
}

// pick applies a volume's items: only the listed keys, at their paths.
func pick(data map[string][]byte, items []corev1.KeyToPath) map[string][]byte {
	if len(items) == 0 {
		return data
	}
	out := map[string][]byte{}
	for _, it := range items {
		if v, ok := data[it.Key]; ok {
			out[it.Path] = v
		}
	}
	return out
}

func mode(m *int32) os.FileMode {
	if m == nil {
		return 0o644 // the API's default
	}
	return os.FileMode(*m & 0o777) // #nosec G115 -- masked to the permission bits
}

func fieldValue(p *pod, podName string, ref *corev1.ObjectFieldSelector) (string, error) {
	if ref != nil {
		switch ref.FieldPath {
		case "metadata.namespace":
			return p.Namespace, nil
		case "metadata.name":
			return podName, nil
		case "spec.serviceAccountName":
			return p.ServiceAccount, nil
		}
	}
	return "", fmt.Errorf("unsupported downward API field %v", ref)
}

func envValue(p *pod, podName string, e corev1.EnvVar) (string, error) {
	if e.ValueFrom == nil {
		return e.Value, nil
	}
	v, err := fieldValue(p, podName, e.ValueFrom.FieldRef)
	if err != nil {
		return "", fmt.Errorf("env %s: %w", e.Name, err)
	}
	return v, nil
}

// writeFiles writes a volume's files with the volume's mode, then makes the
// directory read-only as the mount is.
func writeFiles(dir string, files map[string][]byte, perm os.FileMode) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return fmt.Errorf("creating %s: %w", filepath.Dir(p), err)
		}
		if err := os.WriteFile(p, files[n], perm); err != nil {
			return fmt.Errorf("writing %s: %w", p, err)
		}
		if err := os.Chmod(p, perm); err != nil { // WriteFile's mode is masked by umask
			return fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	return nil
}

// rewriteArg maps one argument (--flag=value, or a bare value) into the
// local stand-in: a path under a mount into the mount's directory, and
// HOST:PORT of a container port into the replica's loopback port.
func rewriteArg(arg string, mounts map[string]string, ports map[int32]int) string {
	prefix, value := "", arg
	if strings.HasPrefix(arg, "-") {
		i := strings.Index(arg, "=")
		if i < 0 {
			return arg
		}
		prefix, value = arg[:i+1], arg[i+1:]
	}
	if host, port, err := net.SplitHostPort(value); err == nil && !strings.Contains(host, "/") {
		if n, err := strconv.ParseInt(port, 10, 32); err == nil {
			if local, ok := ports[int32(n)]; ok {
				return prefix + fmt.Sprintf("127.0.0.1:%d", local)
			}
		}
	}
	best := ""
	for mp := range mounts {
		if (value == mp || strings.HasPrefix(value, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best = mp
		}
	}
	if best != "" {
		return prefix + mounts[best] + strings.TrimPrefix(value, best)
	}
	return arg
}
