// Command chartrun runs the server the way the Helm chart's Deployment runs
// it, as local processes, for clusters whose pods run no containers (the
// local kwok cluster): `make e2e-external` (scripts/e2e-external.sh) renders
// the chart with `helm template`, then runs
//
//	chartrun -manifest FILE -binary bin/replicasd -- COMMAND ARGS...
//
// It applies every rendered object but the Deployment to the cluster
// KUBECONFIG points at (with kubectl, for real), then starts one process per
// replica of the Deployment with the container's args and env, its volumes
// written to a directory per replica (the chart's Secrets and ConfigMaps as
// the kubelet would mount them, and a token of the chart's ServiceAccount
// from `kubectl create token`), and an in-cluster-like kubeconfig that
// authenticates with that token, so the server has the chart's RBAC, not the
// admin's. The only changes to the container's command line: each path
// under a mount becomes the path under its stand-in directory, and each
// HOST:PORT of a container port becomes a loopback port of its own (each
// pod has its own network namespace; the processes share one).
//
// Once every replica passes its startup probe it runs COMMAND with
// E2E_SERVER_URL and E2E_OPS_URL (replica 0), E2E_SECONDARY_URL and
// E2E_SECONDARY_OPS_URL (replica 1, when there are two), stops the replicas
// (SIGTERM, then SIGKILL after the pod's grace period) and exits with
// COMMAND's status; it fails if a replica exited before that or not
// cleanly, printing the last lines of its log. The replicas die with
// chartrun (PR_SET_PDEATHSIG) if it is killed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	code, err := run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "chartrun: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

type options struct {
	manifest, binary, workdir, kubectl string
	apiPort, opsPort                   string
	command                            []string
}

func parseFlags() (*options, error) {
	o := &options{}
	flag.StringVar(&o.manifest, "manifest", "", "the rendered chart (helm template output)")
	flag.StringVar(&o.binary, "binary", "bin/replicasd", "the server binary, standing in for the image's entrypoint")
	flag.StringVar(&o.workdir, "workdir", "", "directory for the replicas' mounts, kubeconfigs and logs (default: a temporary one, removed at exit)")
	flag.StringVar(&o.kubectl, "kubectl", "kubectl", "kubectl binary")
	flag.StringVar(&o.apiPort, "api-port", "api", "name of the container port serving the API (https)")
	flag.StringVar(&o.opsPort, "ops-port", "ops", "name of the container port serving the ops endpoints (http)")
	flag.Parse()
	o.command = flag.Args()
	if o.manifest == "" || len(o.command) == 0 {
		return nil, errors.New("usage: chartrun -manifest FILE [-binary PATH] [-kubectl PATH] -- COMMAND [ARG]")
	}
	return o, nil
}

func run() (int, error) {
	o, err := parseFlags()
	if err != nil {
		return 2, err
	}
	f, err := os.Open(o.manifest)
	if err != nil {
		return 1, err
	}
	chart, err := parseManifest(f)
	_ = f.Close()
	if err != nil {
		return 1, err
	}
	if o.workdir == "" {
		if o.workdir, err = os.MkdirTemp("", "chartrun-"); err != nil {
			return 1, err
		}
		defer os.RemoveAll(o.workdir)
	}
	if o.binary, err = filepath.Abs(o.binary); err != nil {
		return 1, err
	}
	k := kubectl{bin: o.kubectl}
	if err := k.apply(chart.Pod.Namespace, chart.Objects); err != nil {
		return 1, fmt.Errorf("applying the chart's objects: %w", err)
	}
	logf("applied %d objects of the chart; starting %d replicas of %s", len(chart.Objects), chart.Pod.Replicas, o.binary)
	procs, err := startReplicas(o, chart.Pod, k)
	defer stopAll(procs, chart.Pod.GracePeriod)
	if err != nil {
		return 1, err
	}
	code, err := runCommand(o.command, commandEnv(o, procs))
	if code != 0 || err != nil {
		tailAll(procs)
	}
	if stopErr := stopAll(procs, chart.Pod.GracePeriod); stopErr != nil && err == nil {
		err = stopErr
	}
	return code, err
}

// runCommand runs the command, passing on SIGINT and SIGTERM so that the
// replicas are stopped after it, not orphaned.
func runCommand(argv []string, env []string) (int, error) {
	cmd := exec.Command(argv[0], argv[1:]...) // #nosec G204 -- the command its operator gave after --
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}

// commandEnv is the caller's environment plus the replicas' URLs, with the
// names the e2e suite reads.
func commandEnv(o *options, procs []*process) []string {
	env := os.Environ()
	names := [][2]string{{"E2E_SERVER_URL", "E2E_OPS_URL"}, {"E2E_SECONDARY_URL", "E2E_SECONDARY_OPS_URL"}}
	for i, p := range procs {
		if i >= len(names) {
			break
		}
		env = append(env,
			fmt.Sprintf("%s=https://127.0.0.1:%d", names[i][0], p.port(o.apiPort)),
			fmt.Sprintf("%s=http://127.0.0.1:%d", names[i][1], p.port(o.opsPort)))
	}
	return env
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[chartrun] "+format+"\n", args...)
}
