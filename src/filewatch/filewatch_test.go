package filewatch_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/filewatch"
)

const waitTimeout = 10 * time.Second

// run starts Run on cfg and returns a channel receiving one value per reload
// call, after the first (the catch-up reload at start).
func run(t *testing.T, cfg filewatch.Config) <-chan struct{} {
	t.Helper()
	reloads := make(chan struct{}, 100)
	ready := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	first := true
	go func() {
		defer close(done)
		filewatch.Run(ctx, cfg, func() {
			if first {
				first = false
				return
			}
			reloads <- struct{}{}
		}, func() { close(ready) })
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case <-time.After(waitTimeout):
		t.Fatal("Run did not become ready")
	}
	return reloads
}

func waitReload(t *testing.T, reloads <-chan struct{}) {
	t.Helper()
	select {
	case <-reloads:
	case <-time.After(waitTimeout):
		t.Fatal("no reload")
	}
}

func TestRunReloadsOnChange(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(file, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	reloads := run(t, filewatch.Config{Files: []string{file}, Debounce: 10 * time.Millisecond, What: "test files"})
	if err := os.WriteFile(file, []byte("b"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitReload(t, reloads)
	// Replaced by rename, as editors and Secret mounts do.
	tmp := filepath.Join(dir, ".tmp")
	if err := os.WriteFile(tmp, []byte("c"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
	waitReload(t, reloads)
}

func TestRunPolls(t *testing.T) {
	// Nothing changes, so only the poll can call reload.
	reloads := run(t, filewatch.Config{Files: []string{filepath.Join(t.TempDir(), "f")}, PollInterval: 20 * time.Millisecond})
	waitReload(t, reloads)
	waitReload(t, reloads)
}

func TestDirs(t *testing.T) {
	got := filewatch.Dirs([]string{"/a/x", "", "/b/y", "/a/z"})
	if want := []string{"/a", "/b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Dirs = %v, want %v", got, want)
	}
}
