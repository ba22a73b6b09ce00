package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// statusMarker starts the line the curl wrapper writes to stderr after each
// transfer, with its HTTP status.
const statusMarker = "@@docs-check-http-status "

// prelude runs before a file's commands. curl is wrapped so that every
// transfer reports its status on stderr; a command that sets its own
// --write-out replaces the wrapper's (the last one wins) and is then not
// checked for statuses.
const prelude = `set +e
curl() { command curl --write-out '%{stderr}` + statusMarker + `%{http_code}\n' "$@"; }
`

// Result is what running a command did, and what was wrong with it.
type Result struct {
	Command  Command
	Ran      string // the text that ran, ports rewritten
	ExitCode int
	Statuses []int
	Output   string // stdout, then stderr without the status lines
	Problems []string
}

// Runner runs the commands of one file in one bash, in order, so that
// variables and exports carry from command to command.
type Runner struct {
	// Dir is the working directory: the repository root.
	Dir string
	// Ports rewrites the documented ports (8443, 9090) to the ones the
	// checked server listens on, when they differ.
	Ports map[string]string
	// Timeout bounds one file's run.
	Timeout time.Duration
	// Env is added to the environment.
	Env []string
}

// Run runs cmds and checks each against what the docs show.
func (r *Runner) Run(ctx context.Context, cmds []Command) ([]Result, error) {
	tmp, err := os.MkdirTemp("", "docs-check-")
	if err != nil {
		return nil, fmt.Errorf("making a scratch directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	var script strings.Builder
	script.WriteString(prelude)
	results := make([]Result, len(cmds))
	for i, c := range cmds {
		results[i] = Result{Command: c, Ran: r.rewrite(c.Text)}
		base := filepath.Join(tmp, strconv.Itoa(i))
		// Braces, not a subshell: cd, variables and exports persist. The
		// closing brace on its own line lets the command end in a comment.
		fmt.Fprintf(&script, "{\n%s\n} </dev/null >%q 2>%q\necho $? >%q\n", results[i].Ran, base+".out", base+".err", base+".rc")
	}

	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script.String()) // #nosec G204 -- running the docs' commands is this tool's purpose
	sh.Dir = r.Dir
	sh.Env = append(os.Environ(), r.Env...)
	// Its own process group, so that a timeout ends what it started too.
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	sh.Cancel = func() error { return syscall.Kill(-sh.Process.Pid, syscall.SIGKILL) }
	sh.WaitDelay = 5 * time.Second
	out, err := sh.CombinedOutput()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("the commands did not finish within %s (output: %s)", r.Timeout, out)
	}
	if _, ok := errors.AsType[*exec.ExitError](err); err != nil && !ok {
		return nil, fmt.Errorf("running bash: %w", err)
	}

	outputs, err := os.OpenRoot(tmp)
	if err != nil {
		return nil, fmt.Errorf("reading the commands' outputs: %w", err)
	}
	defer outputs.Close()
	for i := range results {
		base := strconv.Itoa(i)
		res := &results[i]
		rc, err := outputs.ReadFile(base + ".rc")
		if err != nil {
			res.Problems = append(res.Problems, "no exit status: this or an earlier command ended the shell (exit?)")
			continue
		}
		res.ExitCode, _ = strconv.Atoi(strings.TrimSpace(string(rc)))
		stdout, _ := outputs.ReadFile(base + ".out")
		stderr, _ := outputs.ReadFile(base + ".err")
		var kept []string
		for _, line := range strings.SplitAfter(string(stderr), "\n") {
			if s, ok := strings.CutPrefix(line, statusMarker); ok {
				code, _ := strconv.Atoi(strings.TrimSpace(s))
				res.Statuses = append(res.Statuses, code)
				continue
			}
			kept = append(kept, line)
		}
		res.Output = string(stdout) + strings.Join(kept, "")
		res.Problems = check(res.Command, res.ExitCode, res.Statuses)
	}
	return results, nil
}

var portRE = regexp.MustCompile(`\b(localhost|127\.0\.0\.1):(\d+)\b`)

// rewrite points the documented ports at the checked server's.
func (r *Runner) rewrite(text string) string {
	if len(r.Ports) == 0 {
		return text
	}
	return portRE.ReplaceAllStringFunc(text, func(hostPort string) string {
		m := portRE.FindStringSubmatch(hostPort)
		if to, ok := r.Ports[m[2]]; ok {
			return m[1] + ":" + to
		}
		return hostPort
	})
}

// check compares what a command did with what the docs show.
func check(c Command, exitCode int, statuses []int) []string {
	var problems []string
	if exitCode != c.ExitCode {
		problems = append(problems, fmt.Sprintf("exit status %d, the docs show %d", exitCode, c.ExitCode))
	}
	switch {
	case len(c.HTTPStatuses) > 0:
		if !slices.Equal(statuses, c.HTTPStatuses) {
			problems = append(problems, fmt.Sprintf("HTTP status %v, the docs show %v", statuses, c.HTTPStatuses))
		}
	default:
		for _, s := range statuses {
			if s == 0 || s >= 400 {
				problems = append(problems, fmt.Sprintf("HTTP status %d (no answer is 0), the docs show a success", s))
				break
			}
		}
	}
	return problems
}
