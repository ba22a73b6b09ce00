package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the docs' commands need curl: install it (apt-get install curl)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte("fine\n"))
		case "/stale":
			w.WriteHeader(http.StatusPreconditionFailed)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	// The docs say 8443; the server is elsewhere.
	url := "http://localhost:8443"
	cmds := []Command{
		{Text: "X=hello; export Y=world"},
		{Text: `test "$X $(sh -c 'echo $Y')" = "hello world"`},
		{Text: "curl -sS " + url + "/ok"},
		{Text: "curl -sS -i " + url + "/stale", HTTPStatuses: []int{412}},
		{Text: "curl -sS " + url + "/stale"},
		{Text: "curl -sS " + url + "/ok", HTTPStatuses: []int{412}},
		{Text: "false   # exit 1", ExitCode: 1},
		{Text: "false"},
		{Text: "echo out; echo err >&2; sh -c 'exit 3'   # exit 3", ExitCode: 3},
		{Text: "exit 0"},
		{Text: "echo never"},
	}
	r := &Runner{Dir: t.TempDir(), Ports: map[string]string{"8443": port}, Timeout: time.Minute}
	results, err := r.Run(t.Context(), cmds)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		problem  string // "" = none; else a substring of the only problem
		statuses []int
		output   string
	}{
		{},
		{},
		{statuses: []int{200}, output: "fine\n"},
		{statuses: []int{412}},
		{problem: "HTTP status 412 (no answer is 0), the docs show a success", statuses: []int{412}},
		{problem: "HTTP status [200], the docs show [412]", statuses: []int{200}, output: "fine\n"},
		{},
		{problem: "exit status 1, the docs show 0"},
		{output: "out\nerr\n"},
		{problem: "this or an earlier command ended the shell"},
		{problem: "this or an earlier command ended the shell"},
	}
	for i, res := range results {
		w := want[i]
		switch {
		case w.problem == "" && len(res.Problems) > 0:
			t.Errorf("%q: unexpected problems %q", res.Command.Text, res.Problems)
		case w.problem != "" && (len(res.Problems) != 1 || !strings.Contains(res.Problems[0], w.problem)):
			t.Errorf("%q: problems %q, want one about %q", res.Command.Text, res.Problems, w.problem)
		}
		if len(res.Statuses) != len(w.statuses) || (len(w.statuses) > 0 && res.Statuses[0] != w.statuses[0]) {
			t.Errorf("%q: statuses %v, want %v", res.Command.Text, res.Statuses, w.statuses)
		}
		if w.output != "" && !strings.HasSuffix(res.Output, w.output) {
			t.Errorf("%q: output %q, want it to end with %q", res.Command.Text, res.Output, w.output)
		}
	}
	if !strings.Contains(results[2].Ran, "localhost:"+port+"/ok") {
		t.Errorf("the port was not rewritten: %s", results[2].Ran)
	}
}

func TestRunTimeout(t *testing.T) {
	r := &Runner{Dir: t.TempDir(), Timeout: 200 * time.Millisecond}
	_, err := r.Run(t.Context(), []Command{{Text: "sleep 30"}})
	if err == nil || !strings.Contains(err.Error(), "did not finish within 200ms") {
		t.Errorf("err = %v, want a timeout", err)
	}
}
