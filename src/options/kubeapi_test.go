package options

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestKubeAPITimeoutFlag(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want time.Duration
		// problem is the exact text of the one problem Validate reports, ""
		// for none.
		problem string
	}{
		{name: "default", want: 10 * time.Second},
		{name: "flag", args: []string{"--kube-api-timeout=3s"}, want: 3 * time.Second},
		{name: "environment", env: map[string]string{"REPLICASD_KUBE_API_TIMEOUT": "4s"}, want: 4 * time.Second},
		{name: "zero", args: []string{"--kube-api-timeout=0s"}, problem: "--kube-api-timeout 0s: must be positive"},
		{name: "negative", args: []string{"--kube-api-timeout=-1s"}, problem: "--kube-api-timeout -1s: must be positive"},
		{
			// Write timeout 25s (5s waits + 20s); the read-your-writes wait
			// of 5s leaves less than 20s for the Kubernetes calls.
			name: "does not fit in the write timeout", args: []string{"--kube-api-timeout=20s"},
			problem: "--kube-api-timeout 20s: must be below 20s, the API's write timeout (25s) minus --read-your-writes-timeout (5s), " +
				"so that a PUT answers before its connection is cut",
		},
		{
			name: "longer waits make room", args: []string{"--kube-api-timeout=20s", "--min-resource-version-timeout=10s"},
			want: 20 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(t, append(files(t), tt.args...), tt.env)
			if err != nil {
				t.Fatal(err)
			}
			var problems []string
			for _, e := range o.Validate() {
				problems = append(problems, e.Error())
			}
			if tt.problem != "" {
				if !slices.Equal(problems, []string{tt.problem}) {
					t.Fatalf("Validate() = %q, want exactly %q", problems, tt.problem)
				}
				return
			}
			if len(problems) != 0 {
				t.Fatalf("Validate() = %q, want no problems", problems)
			}
			if o.KubeAPITimeout != tt.want {
				t.Errorf("KubeAPITimeout = %s, want %s", o.KubeAPITimeout, tt.want)
			}
		})
	}
}

func TestKubeAPITimeoutIsCompleted(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	writeTestFile(t, kubeconfig, "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"+
		"contexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n")
	o, err := parse(t, append(files(t), "--kubeconfig="+kubeconfig, "--kube-api-timeout=7s"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.Complete(&strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.KubeAPITimeout != 7*time.Second {
		t.Errorf("completed KubeAPITimeout = %s, want 7s", cfg.KubeAPITimeout)
	}
}
