package options

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/klog/v2"
)

func TestAuditFlags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // substring of the one problem, "" for none
		check   func(*Options) bool
	}{
		{name: "defaults", check: func(o *Options) bool {
			return o.AuditLogPath == "-" && o.AuditLogFormat == "json" && !o.AuditReads
		}},
		{name: "a file", args: []string{"--audit-log-path=" + filepath.Join(dir, "audit.log"), "--audit-reads"}, check: func(o *Options) bool {
			return o.AuditLogPath == filepath.Join(dir, "audit.log") && o.AuditReads
		}},
		{name: "from the environment", env: map[string]string{"REPLICASD_AUDIT_READS": "true", "REPLICASD_AUDIT_LOG_PATH": "-"}, check: func(o *Options) bool {
			return o.AuditReads && o.AuditLogPath == "-"
		}},
		{name: "other format", args: []string{"--audit-log-format=text"}, wantErr: `--audit-log-format "text": must be json`},
		{name: "empty path", args: []string{"--audit-log-path="}, wantErr: "--audit-log-path is empty"},
		{name: "a directory", args: []string{"--audit-log-path=" + dir}, wantErr: "is a directory"},
		{name: "missing directory", args: []string{"--audit-log-path=" + filepath.Join(dir, "nope", "audit.log")}, wantErr: "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(t, append(files(t), tt.args...), tt.env)
			if err != nil {
				t.Fatal(err)
			}
			errs := o.Validate()
			switch {
			case tt.wantErr == "" && len(errs) != 0:
				t.Fatalf("Validate() = %v, want no problems", errs)
			case tt.wantErr != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want one problem containing %q", errs, tt.wantErr)
			}
			if tt.check != nil && !tt.check(o) {
				t.Errorf("options = %+v", o)
			}
		})
	}
}

func TestCompleteMapsAuditFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	o, err := parse(t, append(files(t), "--audit-log-path="+path, "--audit-reads", "--kubeconfig="+kubeconfig(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer klog.ClearLogger()
	cfg, err := o.Complete(&bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuditLogPath != path || cfg.AuditLogFormat != "json" || !cfg.AuditReads {
		t.Errorf("config: path %q format %q reads %v", cfg.AuditLogPath, cfg.AuditLogFormat, cfg.AuditReads)
	}
}

// TestKlogGoesToTheStructuredLog checks that what client-go logs through
// klog comes out of the same JSON stream as replicasd's own lines.
func TestKlogGoesToTheStructuredLog(t *testing.T) {
	o, err := parse(t, append(files(t), "--kubeconfig="+kubeconfig(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	defer klog.ClearLogger()
	if _, err := o.Complete(&out); err != nil {
		t.Fatal(err)
	}
	klog.InfoS("reflector started", "resource", "deployments")
	klog.ErrorS(os.ErrDeadlineExceeded, "watch failed", "resource", "deployments")
	klog.Flush()

	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2:\n%s", len(lines), out.String())
	}
	if lines[0]["msg"] != "reflector started" || lines[0]["resource"] != "deployments" || lines[0]["level"] != "INFO" {
		t.Errorf("klog info line = %v", lines[0])
	}
	if lines[1]["msg"] != "watch failed" || lines[1]["level"] != "ERROR" || lines[1]["err"] != "i/o timeout" {
		t.Errorf("klog error line = %v", lines[1])
	}
}

// kubeconfig writes a minimal kubeconfig, so Complete finds a cluster.
func kubeconfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	const cfg = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t0ken}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
