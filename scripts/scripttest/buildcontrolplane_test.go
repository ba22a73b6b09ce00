package scripttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeGo is a `go` command that takes a few seconds to "build": it writes an
// executable where -o says, so build-controlplane.sh runs its whole path
// without compiling Kubernetes.
const fakeGo = `#!/usr/bin/env bash
case "$1" in
  build)
    while [[ $# -gt 0 && "$1" != -o ]]; do shift; done
    sleep 3
    printf '#!/bin/sh\n' > "$2"; chmod +x "$2" ;;
esac
`

func TestBuildControlplanePrintsProgressWhileItBuilds(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(fakeGo), 0o700); err != nil { // #nosec G306 -- an executable of this test
		t.Fatal(err)
	}
	cache := t.TempDir()
	cmd := exec.Command("../build-controlplane.sh", "--envtest-dir") // #nosec G204 -- the script under test
	cmd.Env = append(os.Environ(),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"REPLICASD_CACHE_DIR="+cache, "BUILD_PROGRESS_INTERVAL=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("build-controlplane.sh --envtest-dir: %v\n%s", err, stderr.String())
	}
	log := stderr.String()
	// Each component says what is being built, which of how many, and how
	// long it has been building.
	for _, want := range []string{
		"building 3 components (etcd kube-apiserver kubectl)",
		"[1/3] building etcd",
		"still building etcd, 0m0",
		"[2/3] building kube-apiserver",
		"still building kube-apiserver, 0m0",
		"[3/3] building kubectl",
		"built kubectl in",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, log)
		}
	}
	// Only what envtest needs: the cluster's components wait for the cluster.
	for _, comp := range []string{"kube-scheduler", "kube-controller-manager", "kwok"} {
		if strings.Contains(log, "building "+comp) {
			t.Errorf("--envtest-dir built %s:\n%s", comp, log)
		}
	}
	if got, want := strings.TrimSpace(string(out)), filepath.Join(cache, "envtest-1.37.2"); got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	// The progress ticker is gone with the build.
	if ps, err := exec.Command("pgrep", "-f", cache).Output(); err == nil && len(ps) > 0 {
		t.Errorf("processes of the build still run: %s", ps)
	}
}
