package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/replicasd/replicasd/src/version"
)

func TestHelp(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		wantContains []string
		wantAbsent   []string
	}{
		{name: "--help", args: []string{"--help"}, wantContains: []string{
			"Usage:\n  replicactl list",
			"Exit codes:\n  0  success\n  1  the server refused the request",
			"\n  2  usage:", "\n  3  no answer:", "\n  4  the server failed (5xx)",
			"REPLICACTL_SERVER", "$XDG_CONFIG_HOME/replicactl/config.yaml", "--current-replicas N",
		}},
		{name: "-h", args: []string{"-h"}, wantContains: []string{"Exit codes:"}},
		{name: "help", args: []string{"help"}, wantContains: []string{"Exit codes:"}},
		{name: "scale --help", args: []string{"scale", "--help"}, wantContains: []string{
			"Usage:\n  replicactl scale NAME --replicas N",
			"Flags:\n      --replicas N ",
			"Global flags:\n      --server URL",
		}, wantAbsent: []string{"--selector", "Exit codes:"}},
		{name: "help list", args: []string{"help", "list"}, wantContains: []string{
			"Usage:\n  replicactl list", "-A, --all-namespaces", "-l, --selector SELECTOR",
		}, wantAbsent: []string{"--replicas"}},
		{name: "--help after flags of the command", args: []string{"get", "web", "-n", "x", "-h"},
			wantContains: []string{"Usage:\n  replicactl get NAME"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runWith(t, map[string]string{}, tt.args...)
			if res.code != exitOK || res.stderr != "" {
				t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
			}
			for _, s := range tt.wantContains {
				if !strings.Contains(res.stdout, s) {
					t.Errorf("help lacks %q:\n%s", s, res.stdout)
				}
			}
			for _, s := range tt.wantAbsent {
				if strings.Contains(res.stdout, s) {
					t.Errorf("help has %q:\n%s", s, res.stdout)
				}
			}
		})
	}
}

func TestHelpUnknownTopic(t *testing.T) {
	runWith(t, map[string]string{}, "help", "delete").check(t, result{code: exitUsage,
		stderr: "error: unknown command \"delete\"; the commands are list, get, scale and version\nSee 'replicactl --help'.\n"})
}

func TestVersion(t *testing.T) {
	info := version.Get()
	runWith(t, map[string]string{}, "version").check(t, result{
		stdout: "replicactl " + info.Version + " (revision " + info.Revision + ", " + info.GoVersion + ")\n"})

	res := runWith(t, map[string]string{}, "version", "-o", "json")
	var got version.Info
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil || res.code != exitOK {
		t.Fatalf("version -o json: exit %d, %v:\n%s", res.code, err, res.stdout)
	}
	if got != info {
		t.Errorf("version -o json = %+v, want %+v", got, info)
	}
}
