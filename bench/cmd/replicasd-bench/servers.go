package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/replicasd/replicasd/bench/internal/heap"
	"github.com/replicasd/replicasd/bench/internal/kube"
	"github.com/replicasd/replicasd/bench/internal/load"
	"github.com/replicasd/replicasd/bench/internal/proc"
	"github.com/replicasd/replicasd/bench/internal/report"
)

// getTarget is the Deployment of the GET rows: a live one, with pods.
var getTarget = kube.Name(1)

// replicasdArgs are the flags replicasd runs with: production defaults,
// except the per-identity write limit, raised so that the PUT row measures
// latency rather than the limiter, and the audit log, kept in a file.
func (b *bench) replicasdArgs(apiAddr, opsAddr string) []string {
	certs := b.cfg.certsDir
	args := []string{
		"--listen-address", apiAddr,
		"--ops-address", opsAddr,
		"--tls-cert-file", filepath.Join(certs, "server.crt"),
		"--tls-private-key-file", filepath.Join(certs, "server.key"),
		"--client-ca-file", filepath.Join(certs, "ca.crt"),
		"--kubeconfig", b.cfg.kubeconfig,
		"--write-rate-limit", "1000",
		"--write-burst", "1000",
		"--audit-log-path", filepath.Join(b.cfg.workDir, "audit.log"),
		"--log-level", "warn",
	}
	if b.cfg.profileDir != "" {
		// Idle until a profile is asked for: the measured rows are not
		// disturbed.
		args = append(args, "--profiling")
	}
	return args
}

// launchReplicasd starts a replicasd process and waits for /readyz.
func (b *bench) launchReplicasd(ctx context.Context, logName string) (*proc.Child, string, string, time.Duration, error) {
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, "", "", 0, err
	}
	opsAddr, err := freeAddr()
	if err != nil {
		return nil, "", "", 0, err
	}
	child, err := proc.Start("replicasd", filepath.Join(b.cfg.workDir, logName), b.cfg.replicasdBin, b.replicasdArgs(apiAddr, opsAddr)...)
	if err != nil {
		return nil, "", "", 0, err
	}
	ready, err := child.WaitHTTP(ctx, &http.Client{Timeout: time.Second}, "http://"+opsAddr+"/readyz", 5*time.Millisecond, 2*time.Minute)
	if err != nil {
		_ = child.Stop(5 * time.Second)
		return nil, "", "", 0, err
	}
	return child, apiAddr, opsAddr, ready.Sub(child.Started), nil
}

func (b *bench) startReplicasd(ctx context.Context) error {
	child, apiAddr, opsAddr, took, err := b.launchReplicasd(ctx, "replicasd.log")
	if err != nil {
		return err
	}
	b.replicasd, b.rsdAddr, b.opsAddr = child, apiAddr, opsAddr
	b.log.Info("replicasd is ready", "pid", child.PID(), "address", apiAddr, "took", took.Round(time.Millisecond))
	return nil
}

func (b *bench) stopReplicasd() {
	if b.replicasd != nil {
		_ = b.replicasd.Stop(20 * time.Second)
		b.replicasd = nil
	}
}

// startToReady times replicasd from process start to /readyz answering
// 200, runs times, with size Deployments in the cluster.
func (b *bench) startToReady(ctx context.Context, size, runs int) error {
	s := report.StartToReady{Deployments: size}
	for i := range runs {
		child, _, _, took, err := b.launchReplicasd(ctx, fmt.Sprintf("replicasd-start-%d.log", i))
		if err != nil {
			return err
		}
		if err := child.Stop(20 * time.Second); err != nil {
			return err
		}
		s.Seconds = append(s.Seconds, took.Seconds())
		b.log.Info("start to ready", "deployments", size, "seconds", took.Seconds())
	}
	s.Median = medianOf(s.Seconds)
	b.res.StartToReady = append(b.res.StartToReady, s)
	return nil
}

// startBaseline fetches replicasd's GET answer and starts the baseline
// serving a body of the same size.
func (b *bench) startBaseline(ctx context.Context) error {
	client := load.NewPool(load.PoolConfig{TLS: b.rsdTLS, HTTP2: true, KeepAlive: true, Conns: 1}).Client(10 * time.Second)
	status, _, body, err := load.Do(ctx, client, http.MethodGet, b.rsdURL(getPath()), nil, nil)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("replicasd GET %s: status %d, %v: %s", getPath(), status, err, body)
	}
	b.getBody = body
	b.res.Settings.BodyBytes = len(body)
	bodyFile := filepath.Join(b.cfg.workDir, "baseline-body.json")
	if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	certs := b.cfg.certsDir
	child, err := proc.Start("baseline", filepath.Join(b.cfg.workDir, "baseline.log"), b.self, "baseline",
		"--listen", addr,
		"--tls-cert-file", filepath.Join(certs, "server.crt"),
		"--tls-private-key-file", filepath.Join(certs, "server.key"),
		"--client-ca-file", filepath.Join(certs, "ca.crt"),
		"--body-file", bodyFile)
	if err != nil {
		return err
	}
	probe := load.NewPool(load.PoolConfig{TLS: b.rsdTLS, HTTP2: true, KeepAlive: true, Conns: 1}).Client(time.Second)
	if _, err := child.WaitHTTP(ctx, probe, "https://"+addr+"/", 10*time.Millisecond, 30*time.Second); err != nil {
		_ = child.Stop(time.Second)
		return err
	}
	b.baseline, b.baseAddr = child, addr
	b.log.Info("baseline is ready", "pid", child.PID(), "address", addr, "bodyBytes", len(body))
	return nil
}

// measureHeap runs the heap subcommand once per size and transform
// setting, each in a fresh process.
func (b *bench) measureHeap(ctx context.Context, source string, sizes []int) error {
	for _, n := range sizes {
		for _, transform := range []bool{true, false} {
			args := []string{"heap", "--source", source, fmt.Sprintf("--transform=%v", transform)}
			if source == "fake" {
				args = append(args, "--deployments", fmt.Sprint(n))
			} else {
				args = append(args, "--kubeconfig", b.cfg.kubeconfig)
			}
			cmd := exec.CommandContext(ctx, b.self, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("heap %v: %w: %s", args, err, stderr.String())
			}
			var r heap.Result
			if err := json.Unmarshal(out, &r); err != nil {
				return fmt.Errorf("heap %v: %w", args, err)
			}
			b.res.Heap = append(b.res.Heap, r)
			b.log.Info("cache heap", "source", source, "deployments", r.Deployments, "transform", transform,
				"bytesPerDeployment", int(r.BytesPerDeployment))
		}
	}
	return nil
}

// versions records the software measured.
func (b *bench) versions() map[string]string {
	v := map[string]string{"go": runtime.Version()}
	if out, err := exec.Command(b.cfg.replicasdBin, "--version").Output(); err == nil {
		v["replicasd"] = strings.TrimSpace(string(out))
	}
	if gv, err := kube.ServerVersion(b.kube); err == nil {
		v["kube-apiserver"] = gv
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			switch dep.Path {
			case "github.com/tsenart/vegeta/v12":
				v["vegeta"] = dep.Version
			case "k8s.io/client-go":
				v["client-go"] = dep.Version
			case "gonum.org/v1/plot":
				v["gonum/plot"] = dep.Version
			}
		}
	}
	for kv := range strings.SplitSeq(b.cfg.versions, ",") {
		if name, version, ok := strings.Cut(kv, "="); ok {
			v[strings.TrimSpace(name)] = strings.TrimSpace(version)
		}
	}
	return v
}

// machine describes this machine.
func machine() report.Machine {
	m := report.Machine{NProc: runtime.NumCPU(), LoadAvgStart: loadAvg()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	m.MemTotal = procField("/proc/meminfo", "MemTotal")
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAvg is the 1-minute load average.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	_, _ = fmt.Sscan(string(b), &l)
	return l
}
