package options

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecurityDefaults(t *testing.T) {
	o, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.WriteRateLimit != 10 || o.WriteBurst != 20 || o.ReadRateLimit != 0 || o.ReadBurst != 100 ||
		o.MaxInflightRequests != 400 || o.ClientCRLFile != "" || o.AuthorizationPolicyFile != "" {
		t.Errorf("security defaults differ: %+v", o)
	}
}

func TestSecurityFlagsAreCompleted(t *testing.T) {
	dir := t.TempDir()
	crl := filepath.Join(dir, "crl.pem")
	kubeconfig := filepath.Join(dir, "kubeconfig")
	writeTestFile(t, crl, "")
	writeTestFile(t, kubeconfig, "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"+
		"contexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n")
	o, err := parse(t, append(files(t), "--client-crl-file="+crl, "--kubeconfig="+kubeconfig,
		"--write-rate-limit=2.5", "--write-burst=4", "--read-rate-limit=50", "--read-burst=60", "--max-inflight-requests=7",
		"--max-inflight-requests-per-client=3"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := o.Complete(&strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TLS.ClientCRLFile != crl || cfg.WriteRateLimit != 2.5 || cfg.WriteBurst != 4 || cfg.ReadRateLimit != 50 ||
		cfg.ReadBurst != 60 || cfg.MaxInflightRequests != 7 || cfg.MaxInflightRequestsPerClient != 3 {
		t.Errorf("completed config lost a security flag: TLS %+v, limits %v %d %v %d %d %d", cfg.TLS,
			cfg.WriteRateLimit, cfg.WriteBurst, cfg.ReadRateLimit, cfg.ReadBurst, cfg.MaxInflightRequests,
			cfg.MaxInflightRequestsPerClient)
	}
}

// TestPerClientInflightDefaultAndEnvironment: one identity may hold a
// quarter of the default in-flight bound, and the environment sets it.
func TestPerClientInflightDefaultAndEnvironment(t *testing.T) {
	o, err := parse(t, files(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.MaxInflightRequestsPerClient != 100 {
		t.Errorf("default --max-inflight-requests-per-client = %d, want 100", o.MaxInflightRequestsPerClient)
	}
	o, err = parse(t, files(t), map[string]string{"REPLICASD_MAX_INFLIGHT_REQUESTS_PER_CLIENT": "9"})
	if err != nil {
		t.Fatal(err)
	}
	if o.MaxInflightRequestsPerClient != 9 {
		t.Errorf("--max-inflight-requests-per-client from the environment = %d, want 9", o.MaxInflightRequestsPerClient)
	}
}

func TestValidateSecurityFlags(t *testing.T) {
	dir := t.TempDir()
	badPolicy := filepath.Join(dir, "policy.yaml")
	writeTestFile(t, badPolicy, "rules:\n  - users: [a]\n    verbs: [get, delete]\n    namespaces: [x]\n    deployment: [web]\n")
	goodPolicy := filepath.Join(dir, "good.yaml")
	writeTestFile(t, goodPolicy, "rules: []\n")
	tests := []struct {
		name string
		args []string
		want []string // each a problem's exact text
	}{
		{name: "policy problems name their lines", args: []string{"--authorization-policy-file=" + badPolicy}, want: []string{
			"--authorization-policy-file: authorization policy " + badPolicy + ": line 3: rule 1: verbs entry \"delete\" is not a verb; verbs are get, list, scale and \"*\"\n" +
				"line 5: rule 1: unknown key \"deployment\"; a rule has the keys users, groups, verbs, namespaces, deployments, maxReplicas",
		}},
		{name: "missing policy file", args: []string{"--authorization-policy-file=" + filepath.Join(dir, "nope.yaml")}, want: []string{
			"--authorization-policy-file: stat " + filepath.Join(dir, "nope.yaml") + ": no such file or directory",
		}},
		{name: "missing CRL file", args: []string{"--client-crl-file=" + filepath.Join(dir, "nope.pem")}, want: []string{
			"--client-crl-file: stat " + filepath.Join(dir, "nope.pem") + ": no such file or directory",
		}},
		{name: "negative rates", args: []string{"--write-rate-limit=-1", "--read-rate-limit=-0.5"}, want: []string{
			"--write-rate-limit -1: must be a number of requests per second, or 0 for no limit",
			"--read-rate-limit -0.5: must be a number of requests per second, or 0 for no limit",
		}},
		{name: "not a number", args: []string{"--write-rate-limit=NaN", "--read-rate-limit=+Inf"}, want: []string{
			"--write-rate-limit NaN: must be a number of requests per second, or 0 for no limit",
			"--read-rate-limit +Inf: must be a number of requests per second, or 0 for no limit",
		}},
		{name: "no burst while limited", args: []string{"--write-burst=0", "--read-rate-limit=5", "--read-burst=0"}, want: []string{
			"--write-burst 0: must be at least 1 while --write-rate-limit is on",
			"--read-burst 0: must be at least 1 while --read-rate-limit is on",
		}},
		{name: "negative in-flight bound", args: []string{"--max-inflight-requests=-1"}, want: []string{
			"--max-inflight-requests -1: must be 0 (no bound) or more",
		}},
		{name: "negative per-client in-flight bound", args: []string{"--max-inflight-requests-per-client=-1"}, want: []string{
			"--max-inflight-requests-per-client -1: must be 0 (no bound) or more",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(t, append(files(t), tt.args...), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range o.Validate() {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n--\n") != strings.Join(tt.want, "\n--\n") {
				t.Errorf("problems\n got %q\nwant %q", got, tt.want)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		o, err := parse(t, append(files(t), "--authorization-policy-file="+goodPolicy, "--write-rate-limit=0", "--write-burst=0",
			"--max-inflight-requests=0", "--max-inflight-requests-per-client=0"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if errs := o.Validate(); len(errs) != 0 {
			t.Errorf("Validate() = %v, want no problems", errs)
		}
	})
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
