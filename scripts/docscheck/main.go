// Command docscheck runs the commands the docs show and fails when one
// does not do what the docs say: `make docs-check` (scripts/docs-check.sh)
// starts the local cluster and a server the way `make run` does, then runs
//
//	go run ./scripts/docscheck [-port 8443=PORT ...] FILE.md ...
//
// Only fenced blocks tagged docs-check run: ```console docs-check (a
// terminal transcript: "$ " starts a command, the lines after it are its
// output) and ```sh docs-check (one command per line). A command must exit
// 0 unless it ends with a "# exit N" comment, and each HTTP answer curl gets
// must be a success unless the transcript shows its status line (curl -i:
// "HTTP/2 412") or the command ends with "# HTTP 412". Each file's commands
// run in order in one bash, in the repository root. Untagged shell blocks
// are listed as not run.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

// portFlags collects -port FROM=TO.
type portFlags map[string]string

func (p portFlags) String() string { return fmt.Sprint(map[string]string(p)) }

func (p portFlags) Set(v string) error {
	from, to, ok := strings.Cut(v, "=")
	if !ok || from == "" || to == "" {
		return fmt.Errorf("want FROM=TO, e.g. 8443=18443")
	}
	p[from] = to
	return nil
}

func run(args []string, out io.Writer) int {
	fs := flag.NewFlagSet("docscheck", flag.ContinueOnError)
	fs.SetOutput(out)
	ports := portFlags{}
	fs.Var(ports, "port", "rewrite a documented port in commands, FROM=TO (repeatable)")
	timeout := fs.Duration("timeout", 5*time.Minute, "how long one file's commands may take")
	dir := fs.String("dir", ".", "directory the commands run in")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(out, "usage: docscheck [-port FROM=TO ...] FILE.md ...")
		return 2
	}
	runner := &Runner{Dir: *dir, Ports: ports, Timeout: *timeout}
	failed, ran := 0, 0
	for _, file := range fs.Args() {
		data, err := os.ReadFile(file) // #nosec G304 -- the Markdown files the caller names
		if err != nil {
			fmt.Fprintf(out, "docs-check: %v\n", err)
			return 1
		}
		blocks, err := Parse(file, bytes.NewReader(data))
		if err != nil {
			fmt.Fprintf(out, "docs-check: %v\n", err)
			return 1
		}
		var cmds []Command
		for _, b := range blocks {
			if b.Checked {
				cmds = append(cmds, b.Commands...)
			} else if len(b.Commands) > 0 {
				fmt.Fprintf(out, "not run  %s:%d (a %s block without the docs-check tag)\n", b.File, b.Line, b.Language)
			}
		}
		if len(cmds) == 0 {
			continue
		}
		results, err := runner.Run(context.Background(), cmds)
		if err != nil {
			fmt.Fprintf(out, "FAIL     %s: %v\n", file, err)
			failed++
			continue
		}
		for _, r := range results {
			ran++
			first, _, _ := strings.Cut(r.Command.Text, "\n")
			if len(r.Problems) == 0 {
				fmt.Fprintf(out, "ok       %s:%d  $ %s\n", r.Command.File, r.Command.Line, first)
				continue
			}
			failed++
			fmt.Fprintf(out, "FAIL     %s:%d  $ %s\n", r.Command.File, r.Command.Line, first)
			for _, p := range r.Problems {
				fmt.Fprintf(out, "         %s\n", p)
			}
			fmt.Fprintf(out, "         ran:\n%s\n         output:\n%s\n", indent(r.Ran), indent(r.Output))
		}
	}
	if failed > 0 {
		fmt.Fprintf(out, "docs-check: %d of %d commands failed\n", failed, ran)
		return 1
	}
	if ran == 0 {
		fmt.Fprintln(out, "docs-check: no block tagged docs-check")
		return 0
	}
	fmt.Fprintf(out, "docs-check: all %d commands did what the docs show\n", ran)
	return 0
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "           " + l
	}
	return strings.Join(lines, "\n")
}
