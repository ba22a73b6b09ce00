package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// process is one running replica.
type process struct {
	*replica
	pod     *pod
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
	stopped bool
}

func (p *process) port(name string) int {
	for _, cp := range p.pod.Container.Ports {
		if cp.Name == name {
			return p.Ports[cp.ContainerPort]
		}
	}
	return 0
}

// startReplicas starts every replica, then waits for each startup probe.
// On error the processes started so far are returned for stopAll.
func startReplicas(o *options, pd *pod, c cluster) ([]*process, error) {
	admin, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading KUBECONFIG for the API server's address: %w", err)
	}
	var procs []*process
	for i := range pd.Replicas {
		ports := map[int32]int{}
		for _, cp := range pd.Container.Ports {
			if ports[cp.ContainerPort], err = freePort(); err != nil {
				return procs, err
			}
		}
		name := fmt.Sprintf("replica-%d", i)
		r, err := materialize(pd, c, name, filepath.Join(o.workdir, name), ports)
		if err != nil {
			return procs, err
		}
		if r.TokenFile == "" {
			return procs, fmt.Errorf("the container mounts no ServiceAccount token at %s", serviceAccountMount)
		}
		if err := writeInClusterKubeconfig(filepath.Join(r.Root, "kubeconfig"), admin.Host, r); err != nil {
			return procs, err
		}
		p, err := start(o.binary, pd, r)
		if err != nil {
			return procs, err
		}
		procs = append(procs, p)
		logf("%s: pid %d, %s, log %s", name, p.cmd.Process.Pid, r.ReadyURL, p.logPath)
	}
	for _, p := range procs {
		if err := p.waitReady(); err != nil {
			tailAll(procs)
			return procs, err
		}
	}
	return procs, nil
}

// writeInClusterKubeconfig writes what rest.InClusterConfig would build:
// the API server, the ServiceAccount volume's CA and its token file (which
// client-go re-reads, as in a pod).
func writeInClusterKubeconfig(path, host string, r *replica) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["in-cluster"] = &clientcmdapi.Cluster{Server: host, CertificateAuthority: r.CAFile}
	kc.AuthInfos["serviceaccount"] = &clientcmdapi.AuthInfo{TokenFile: r.TokenFile}
	kc.Contexts["in-cluster"] = &clientcmdapi.Context{Cluster: "in-cluster", AuthInfo: "serviceaccount"}
	kc.CurrentContext = "in-cluster"
	return clientcmd.WriteToFile(*kc, path)
}

func start(binary string, pd *pod, r *replica) (*process, error) {
	p := &process{replica: r, pod: pd, logPath: filepath.Join(r.Root, "replicasd.log"), exited: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	p.cmd = exec.Command(binary, r.Args...) // #nosec G204 -- the binary and args its operator named, from the rendered chart
	// The container's environment only, never the caller's.
	p.cmd.Env = r.Env
	p.cmd.Dir = r.Root
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	// Killed with chartrun, whatever kills it; in a process group of its
	// own, so a Ctrl-C reaches chartrun, which stops it as the kubelet
	// would, rather than the server directly.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// waitReady polls the startup probe for as long as the kubelet would.
func (p *process) waitReady() error {
	client := &http.Client{Timeout: 2 * time.Second}
	err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, p.ReadyTimeout, true,
		func(context.Context) (bool, error) {
			select {
			case <-p.exited:
				return false, fmt.Errorf("exited before it was ready: %v", p.waitErr)
			default:
			}
			resp, err := client.Get(p.ReadyURL)
			if err != nil {
				return false, nil
			}
			_ = resp.Body.Close()
			return resp.StatusCode == http.StatusOK, nil
		})
	if err != nil {
		return fmt.Errorf("%s not ready at %s within %v (the startup probe's limit): %w", p.Name, p.ReadyURL, p.ReadyTimeout, err)
	}
	return nil
}

// stopAll stops the replicas as the kubelet would: SIGTERM, then SIGKILL
// after the grace period. A replica that had already exited, or did not
// exit 0, is an error. Safe to call twice.
func stopAll(procs []*process, grace time.Duration) error {
	var errs []error
	for _, p := range procs {
		if p.stopped {
			continue
		}
		p.stopped = true
		select {
		case <-p.exited:
			errs = append(errs, fmt.Errorf("%s (pid %d) exited while in use: %v; log %s", p.Name, p.cmd.Process.Pid, p.waitErr, p.logPath))
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			if p.waitErr != nil {
				errs = append(errs, fmt.Errorf("%s: exit after SIGTERM: %w; log %s", p.Name, p.waitErr, p.logPath))
			}
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.exited
			errs = append(errs, fmt.Errorf("%s did not exit within the %v grace period after SIGTERM; killed", p.Name, grace))
		}
	}
	if len(errs) > 0 {
		tailAll(procs)
	}
	return errors.Join(errs...)
}

// tailAll prints the last lines of each replica's log.
func tailAll(procs []*process) {
	const lines = 40
	for _, p := range procs {
		f, err := os.Open(p.logPath)
		if err != nil {
			continue
		}
		var last []string
		s := bufio.NewScanner(f)
		s.Buffer(make([]byte, 0, 64*1024), 1024*1024)
		for s.Scan() {
			last = append(last, s.Text())
			if len(last) > lines {
				last = last[1:]
			}
		}
		_ = f.Close()
		fmt.Fprintf(os.Stderr, "----- last %d lines of %s (%s) -----\n", len(last), p.Name, p.logPath)
		for _, l := range last {
			fmt.Fprintln(os.Stderr, l)
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
