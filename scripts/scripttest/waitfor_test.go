// Package scripttest runs the repository's shell scripts the way the make
// targets and the GitHub workflow call them.
package scripttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// run runs scripts/wait-for.sh with args and returns its combined output
// and exit code.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("../wait-for.sh", args...) // #nosec G204 -- the script under test
	out, err := cmd.CombinedOutput()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return string(out), exitErr.ExitCode()
	}
	if err != nil {
		t.Fatalf("running wait-for.sh: %v", err)
	}
	return string(out), 0
}

// logFile writes lines to a temporary log and returns its path.
func logFile(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWaitForReturnsOnceTheCommandSucceeds(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ready")
	// The command succeeds on its third try: the loop really retries.
	script := `n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "$1"; [ "$n" -ge 3 ]`
	out, code := run(t, "--timeout", "60", "--interval", "0.1", "the marker", "--", "bash", "-c", script, "_", marker)
	if code != 0 {
		t.Fatalf("exit code = %d, want 0; output:\n%s", code, out)
	}
	data, err := os.ReadFile(marker) // #nosec G304 -- a file of this test
	if err != nil || strings.TrimSpace(string(data)) != "3" {
		t.Fatalf("tries = %q (%v), want 3", data, err)
	}
}

func TestWaitForFailsLoudlyWithTheLastLogLinesWhenTimeRunsOut(t *testing.T) {
	lines := make([]string, 0, 51)
	for i := range 50 {
		lines = append(lines, fmt.Sprintf("log line %02d", i))
	}
	lines = append(lines, "the last line of the log")
	log := logFile(t, lines...)
	out, code := run(t, "--timeout", "1", "--interval", "0.2", "--log", log, "replicasd /readyz", "--", "false")
	if code != 1 {
		t.Fatalf("exit code = %d, want 1; output:\n%s", code, out)
	}
	for _, want := range []string{"timed out after 1s waiting for replicasd /readyz", "the last line of the log", log} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "log line 00") {
		t.Errorf("output holds the whole log, want only its last lines:\n%s", out)
	}
}

func TestWaitForFailsAtOnceWhenTheWatchedProcessExits(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	log := logFile(t, "listen tcp :9090: bind: address already in use")
	out, code := run(t, "--timeout", "600", "--pid", strconv.Itoa(dead.Process.Pid), "--log", log, "the server", "--", "false")
	if code != 1 {
		t.Fatalf("exit code = %d, want 1; output:\n%s", code, out)
	}
	for _, want := range []string{"exited while waiting for the server", "address already in use"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
}

func TestWaitForRefusesAMissingCommand(t *testing.T) {
	out, code := run(t, "--timeout", "5", "something")
	if code != 2 || !strings.Contains(out, "usage") {
		t.Fatalf("exit code = %d, output %q; want 2 and the usage", code, out)
	}
}
