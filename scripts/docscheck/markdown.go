package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// tag marks a fenced block whose commands `make docs-check` runs:
// ```console docs-check or ```sh docs-check.
const tag = "docs-check"

// Command is one command the docs show, with what they say it does.
type Command struct {
	// File and Line locate the command's first line.
	File string
	Line int
	// Text is the command as shown, continuation lines included, without
	// a transcript's "$ " prompt.
	Text string
	// ExitCode is the exit status the docs expect: 0 unless the command
	// ends with a "# exit N" comment.
	ExitCode int
	// HTTPStatuses are the statuses the docs show for a curl command: the
	// "HTTP/2 412" lines of a transcript's output, or a "# HTTP 412"
	// comment. Empty means every answer must be a success (below 400).
	HTTPStatuses []int
}

// Block is a fenced block of commands.
type Block struct {
	File     string
	Line     int    // of the opening fence
	Language string // console, sh, bash…
	Checked  bool   // tagged docs-check
	Commands []Command
}

var (
	fenceRE      = regexp.MustCompile("^(\\s*)(```+|~~~+)\\s*(.*)$")
	exitRE       = regexp.MustCompile(`#.*\bexit (\d+)\s*$`)
	httpCommRE   = regexp.MustCompile(`#.*\bHTTP ((?:\d{3}[ ,]*)+)\s*$`)
	statusLineRE = regexp.MustCompile(`^HTTP/[0-9.]+ (\d{3})\b`)
)

// transcriptLanguages show a terminal session: "$ " starts a command, the
// lines up to the next one are its output.
var transcriptLanguages = map[string]bool{"console": true, "shell-session": true}

// scriptLanguages hold commands only, one per line.
var scriptLanguages = map[string]bool{"sh": true, "bash": true, "shell": true}

// Parse returns the blocks of shell commands in a Markdown file, tagged or
// not (untagged ones are reported as not run).
func Parse(file string, r io.Reader) ([]Block, error) {
	var (
		blocks []Block
		cur    *Block
		fence  string
		indent string
		body   []numbered
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		m := fenceRE.FindStringSubmatch(line)
		switch {
		case cur == nil && m != nil:
			fields := strings.Fields(m[3])
			if len(fields) == 0 || !(transcriptLanguages[fields[0]] || scriptLanguages[fields[0]]) {
				// Not a shell block: skip to its closing fence.
				cur = &Block{Language: ""}
			} else {
				cur = &Block{File: file, Line: n, Language: fields[0], Checked: containsTag(fields[1:])}
			}
			fence, indent, body = m[2], m[1], nil
		case cur != nil && m != nil && strings.HasPrefix(m[2], fence[:1]) && len(m[2]) >= len(fence) && strings.TrimSpace(m[3]) == "":
			if cur.Language != "" {
				cmds, err := commands(file, cur.Language, body)
				if err != nil {
					return nil, err
				}
				cur.Commands = cmds
				blocks = append(blocks, *cur)
			}
			cur = nil
		case cur != nil:
			body = append(body, numbered{n, strings.TrimPrefix(line, indent)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if cur != nil && cur.Language != "" {
		return nil, fmt.Errorf("%s:%d: the code block is never closed", file, cur.Line)
	}
	return blocks, nil
}

func containsTag(fields []string) bool {
	for _, f := range fields {
		if f == tag {
			return true
		}
	}
	return false
}

// numbered is a line with its line number.
type numbered struct {
	n    int
	text string
}

// commands splits a block's body into commands.
func commands(file, language string, body []numbered) ([]Command, error) {
	var cmds []Command
	transcript := transcriptLanguages[language]
	for i := 0; i < len(body); i++ {
		text := body[i].text
		if transcript {
			if !strings.HasPrefix(text, "$ ") {
				continue // output, read below with its command
			}
			text = strings.TrimPrefix(text, "$ ")
		} else if t := strings.TrimSpace(text); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		cmd := Command{File: file, Line: body[i].n}
		lines := []string{text}
		for strings.HasSuffix(strings.TrimRight(lines[len(lines)-1], " \t"), `\`) {
			i++
			if i >= len(body) {
				return nil, fmt.Errorf("%s:%d: the command's last line ends with a backslash", file, cmd.Line)
			}
			lines = append(lines, body[i].text)
		}
		cmd.Text = strings.Join(lines, "\n")
		last := lines[len(lines)-1]
		if m := exitRE.FindStringSubmatch(last); m != nil {
			cmd.ExitCode, _ = strconv.Atoi(m[1])
		}
		if m := httpCommRE.FindStringSubmatch(last); m != nil {
			for _, s := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ' ' || r == ',' }) {
				code, _ := strconv.Atoi(s)
				cmd.HTTPStatuses = append(cmd.HTTPStatuses, code)
			}
		}
		if transcript {
			for j := i + 1; j < len(body) && !strings.HasPrefix(body[j].text, "$ "); j++ {
				if m := statusLineRE.FindStringSubmatch(body[j].text); m != nil {
					code, _ := strconv.Atoi(m[1])
					cmd.HTTPStatuses = append(cmd.HTTPStatuses, code)
				}
			}
		}
		cmds = append(cmds, cmd)
	}
	return cmds, nil
}
