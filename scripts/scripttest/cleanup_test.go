package scripttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// copyBinary copies /bin/sleep to path, so a process can run "as" a binary
// of the cache or of bin/.
func copyBinary(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile("/bin/sleep")
	if err != nil {
		t.Skipf("no /bin/sleep to stand in for a server: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o700); err != nil { // #nosec G306 -- an executable of this test
		t.Fatal(err)
	}
}

// orphan starts exe (argv[0] set to name, which carries the marks a command
// line can have) from a shell that exits at once, as a suite's process is
// left when the test binary is killed; it returns the pid.
func orphan(t *testing.T, name, exe string) int {
	t.Helper()
	out, err := exec.Command("bash", "-c", `exec -a "$1" "$2" 300 </dev/null >/dev/null 2>&1 & echo $!`, "_", name, exe).Output() // #nosec G204 -- test processes
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kill(pid) })
	return pid
}

// child starts exe as a child of this test binary (a *.test, like a suite
// that is still running) and returns its pid.
func child(t *testing.T, name, exe string) int {
	t.Helper()
	cmd := exec.Command(exe, "300") // #nosec G204 -- test processes
	cmd.Args[0] = name
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd.Process.Pid
}

func kill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// alive reports whether pid runs (a zombie does not count).
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// gone waits (a loaded machine: up to 30 s) for pid to exit.
func gone(pid int) bool {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !alive(pid) {
			return true
		}
	}
	return false
}

// cleanup runs scripts/cleanup.sh with the cache at cache.
func cleanup(t *testing.T, cache string, args ...string) string {
	t.Helper()
	cmd := exec.Command("../cleanup.sh", args...) // #nosec G204 -- the script under test
	cmd.Env = append(os.Environ(), "REPLICASD_CACHE_DIR="+cache)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cleanup.sh %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestCleanupEnvtestStopsOnlyOrphanedEnvtestProcessesOfTheCache(t *testing.T) {
	cache := t.TempDir()
	etcd := filepath.Join(cache, "bin", "etcd-v3.6.16", "etcd")
	copyBinary(t, etcd)
	stranger := filepath.Join(t.TempDir(), "etcd")
	copyBinary(t, stranger)

	stale := orphan(t, "etcd --data-dir=/tmp/k8s_test_framework_123", etcd)
	running := child(t, "etcd --data-dir=/tmp/k8s_test_framework_456", etcd)
	notEnvtest := orphan(t, "etcd --data-dir=/var/lib/kwok/etcd", etcd)
	notOurs := orphan(t, "etcd --data-dir=/tmp/k8s_test_framework_789", stranger)

	out := cleanup(t, cache, "envtest")
	if !gone(stale) {
		t.Errorf("the orphaned envtest etcd (pid %d) still runs; output:\n%s", stale, out)
	}
	for name, pid := range map[string]int{
		"a running suite's etcd": running, "a cache etcd outside envtest": notEnvtest, "an etcd outside the cache": notOurs,
	} {
		if !alive(pid) {
			t.Errorf("%s (pid %d) was stopped; output:\n%s", name, pid, out)
		}
	}
	if !strings.Contains(out, "pid "+strconv.Itoa(stale)) {
		t.Errorf("output does not name the stopped pid %d:\n%s", stale, out)
	}
}

func TestCleanupServersStopsOnlyThisBinary(t *testing.T) {
	dir := t.TempDir()
	server, bench := filepath.Join(dir, "bin", "replicasd"), filepath.Join(dir, "bin", "replicasd-bench")
	copyBinary(t, server)
	copyBinary(t, bench)
	stale := orphan(t, "replicasd --kubeconfig /tmp/ginkgo123/sa.kubeconfig", server)
	other := orphan(t, "replicasd-bench --kubeconfig /tmp/ginkgo123/sa.kubeconfig", bench)
	mine := orphan(t, "replicasd --kubeconfig /home/me/.kube/config", server)

	out := cleanup(t, t.TempDir(), "servers", server, "/ginkgo")
	if !gone(stale) {
		t.Errorf("the orphaned e2e server (pid %d) still runs; output:\n%s", stale, out)
	}
	if !alive(other) || !alive(mine) {
		t.Errorf("stopped a process that is not an e2e server of %s; output:\n%s", server, out)
	}
}

func TestCleanupPidfileStopsTheProcessOnlyWhenItIsStillTheBinary(t *testing.T) {
	dir := t.TempDir()
	server := filepath.Join(dir, "replicasd")
	copyBinary(t, server)
	pidfile := filepath.Join(dir, "server.pid")

	stale := orphan(t, "replicasd", server)
	if err := os.WriteFile(pidfile, []byte(strconv.Itoa(stale)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := cleanup(t, dir, "pidfile", pidfile, server)
	if !gone(stale) {
		t.Errorf("the process of the pid file (pid %d) still runs; output:\n%s", stale, out)
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("the pid file is still there (%v)", err)
	}

	// The pid was reused by another program: it is left alone.
	reused := orphan(t, "sleep", "/bin/sleep")
	if err := os.WriteFile(pidfile, []byte(strconv.Itoa(reused)), 0o600); err != nil {
		t.Fatal(err)
	}
	out = cleanup(t, dir, "pidfile", pidfile, server)
	if !alive(reused) {
		t.Errorf("stopped pid %d, which is not %s; output:\n%s", reused, server, out)
	}
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("the stale pid file is still there (%v)", err)
	}
}
