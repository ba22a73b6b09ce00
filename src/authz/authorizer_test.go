package authz_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/authz"
	"github.com/replicasd/replicasd/src/testkit"
)

const waitTimeout = 10 * time.Second

const (
	readOnly  = "rules:\n- users: [bob]\n  verbs: [get, list]\n  namespaces: [team-a]\n"
	readWrite = "rules:\n- users: [bob]\n  verbs: [get, list, scale]\n  namespaces: [team-a]\n"
)

// run starts a.Run until the test ends and returns once it watches the file.
func run(t *testing.T, a *authz.Authorizer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-a.Watching():
	case <-time.After(waitTimeout):
		t.Fatal("Run did not start watching")
	}
}

func waitResult(t *testing.T, results <-chan string, want string) {
	t.Helper()
	select {
	case got := <-results:
		if got != want {
			t.Fatalf("reload result %q, want %q", got, want)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("no reload reported within %v, want %q", waitTimeout, want)
	}
}

// replace writes content to path atomically, as a ConfigMap update or an
// editor does.
func replace(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestNewRefusesBadPolicy(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "policy.yaml")
	writeFile(t, bad, "rules:\n- users: [bob]\n  verbs: [get]\n  namespaces: [x]\n  namespace: [y]\n")
	_, err := authz.New(bad, nil)
	want := "authorization policy " + bad + `: line 5: rule 1: unknown key "namespace"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("New = %v, want an error containing %q", err, want)
	}
	if _, err := authz.New(filepath.Join(dir, "missing.yaml"), nil); err == nil || !os.IsNotExist(err) {
		t.Errorf("New of a missing file = %v, want not-exist", err)
	}
}

func TestHotReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, path, readOnly)
	results := make(chan string, 100)
	logs := &testkit.Buffer{}
	a, err := authz.New(path, testkit.TextLogger(logs, slog.LevelInfo),
		authz.WithPollInterval(0), authz.WithDebounce(10*time.Millisecond),
		authz.WithOnReload(func(r string) { results <- r }))
	if err != nil {
		t.Fatal(err)
	}
	run(t, a)
	bob := id("bob")
	checkDecision(t, a.Authorize(bob, "scale", "team-a", "web"), `CN=bob (no groups) may not scale deployment "web" in namespace "team-a"`)

	replace(t, path, readWrite)
	waitResult(t, results, authz.ReloadSuccess)
	checkDecision(t, a.Authorize(bob, "scale", "team-a", "web"), "")

	// A broken file keeps the last good policy, and says why, once.
	replace(t, path, readWrite+"  verbs: [scale]\n")
	waitResult(t, results, authz.ReloadFailure)
	checkDecision(t, a.Authorize(bob, "scale", "team-a", "web"), "")
	if !strings.Contains(logs.String(), `key \"verbs\" appears twice in rule 1`) {
		t.Errorf("the log does not say why the reload failed:\n%s", logs)
	}
	if err := a.Reload(); err == nil {
		t.Error("Reload of the broken file returned nil")
	}
	select {
	case r := <-results:
		t.Errorf("the same broken file was reported again: %s", r)
	default:
	}

	// A removed file too.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitResult(t, results, authz.ReloadFailure)
	checkDecision(t, a.Authorize(bob, "scale", "team-a", "web"), "")

	replace(t, path, readOnly)
	waitResult(t, results, authz.ReloadSuccess)
	checkDecision(t, a.Authorize(bob, "scale", "team-a", "web"), `CN=bob (no groups) may not scale deployment "web" in namespace "team-a"`)
}

func TestReloadPolls(t *testing.T) {
	// A symlink to a file in an unwatched directory: only polling sees the
	// target change.
	target := filepath.Join(t.TempDir(), "policy.yaml")
	writeFile(t, target, readOnly)
	link := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	results := make(chan string, 100)
	a, err := authz.New(link, nil, authz.WithPollInterval(20*time.Millisecond), authz.WithOnReload(func(r string) { results <- r }))
	if err != nil {
		t.Fatal(err)
	}
	run(t, a)
	writeFile(t, target, readWrite)
	waitResult(t, results, authz.ReloadSuccess)
	checkDecision(t, a.Authorize(id("bob"), "scale", "team-a", "web"), "")
}
