package options

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
)

func parse(t *testing.T, args []string, env map[string]string) (*Options, error) {
	t.Helper()
	o := New()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	err := o.Parse(fs, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return o, err
}

// files writes empty placeholder TLS files: Validate only checks that they exist.
func files(t *testing.T) []string {
	dir := t.TempDir()
	var args []string
	for flag, name := range map[string]string{"tls-cert-file": "tls.crt", "tls-private-key-file": "tls.key", "client-ca-file": "ca.crt"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--"+flag+"="+p)
	}
	return args
}

func TestDefaults(t *testing.T) {
	o, err := parse(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.ListenAddress != ":8443" || o.OpsAddress != ":9090" || o.TLSMinVersion != "VersionTLS13" ||
		o.DefaultNamespace != "default" || o.MaxReplicas != 1000 || o.KubeAPIQPS != 50 || o.KubeAPIBurst != 100 ||
		o.CacheSyncTimeout != 60*time.Second || o.LogFormat != "json" || o.LogLevel != "info" || len(o.Namespaces) != 0 {
		t.Errorf("defaults differ from the contract: %+v", o)
	}
}

func TestEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(*Options) bool
	}{
		{"env sets a flag", nil, map[string]string{"REPLICASD_MAX_REPLICAS": "7"}, func(o *Options) bool { return o.MaxReplicas == 7 }},
		{"flag beats env", []string{"--max-replicas=9"}, map[string]string{"REPLICASD_MAX_REPLICAS": "7"}, func(o *Options) bool { return o.MaxReplicas == 9 }},
		{"repeatable namespace from env", nil, map[string]string{"REPLICASD_NAMESPACE": "a,b"}, func(o *Options) bool {
			return strings.Join(o.Namespaces, ",") == "a,b"
		}},
		{"repeated namespace flag", []string{"--namespace=a", "--namespace=b"}, nil, func(o *Options) bool {
			return strings.Join(o.Namespaces, ",") == "a,b"
		}},
		{"qps and duration", nil, map[string]string{"REPLICASD_KUBE_API_QPS": "5.5", "REPLICASD_CACHE_SYNC_TIMEOUT": "3s"}, func(o *Options) bool {
			return o.KubeAPIQPS == 5.5 && o.CacheSyncTimeout == 3*time.Second
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o) {
				t.Errorf("unexpected options %+v", o)
			}
		})
	}
}

func TestBadEnvironmentValueIsAnError(t *testing.T) {
	_, err := parse(t, nil, map[string]string{"REPLICASD_MAX_REPLICAS": "many"})
	if err == nil || !strings.Contains(err.Error(), "REPLICASD_MAX_REPLICAS") {
		t.Fatalf("err = %v, want one naming REPLICASD_MAX_REPLICAS", err)
	}
}

func TestValidateValid(t *testing.T) {
	o, err := parse(t, files(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if errs := o.Validate(); len(errs) != 0 {
		t.Fatalf("Validate() = %v, want no problems", errs)
	}
}

func TestValidateListsEveryProblem(t *testing.T) {
	o, err := parse(t, []string{
		"--listen-address=nope", "--tls-min-version=VersionTLS10", "--namespace=Bad_NS",
		"--default-namespace=UPPER", "--max-replicas=-1", "--kube-api-qps=0", "--kube-api-burst=0",
		"--cache-sync-timeout=0s", "--log-format=xml", "--log-level=loud", "--client-ca-file=/does/not/exist",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := o.Validate()
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		"--listen-address", "--tls-cert-file is required", "--tls-private-key-file is required", "--client-ca-file",
		"--tls-min-version", `--namespace "Bad_NS"`, "--default-namespace", "--max-replicas", "--kube-api-qps",
		"--kube-api-burst", "--cache-sync-timeout", "--log-format", "--log-level",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("problems do not mention %q:\n%s", want, all)
		}
	}
}

func TestDefaultNamespaceMustBeWatched(t *testing.T) {
	o, _ := parse(t, append(files(t), "--namespace=a", "--default-namespace=b"), nil)
	errs := o.Validate()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "not one of the watched namespaces") {
		t.Fatalf("Validate() = %v", errs)
	}
}

func TestLoggerFormats(t *testing.T) {
	var b strings.Builder
	l, err := NewLogger(&b, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hello", "k", "v")
	if !strings.HasPrefix(b.String(), "{") || !strings.Contains(b.String(), `"k":"v"`) {
		t.Errorf("json log = %q", b.String())
	}
	b.Reset()
	l, _ = NewLogger(&b, "text", "warn")
	l.Info("hidden")
	l.Warn("shown")
	if strings.Contains(b.String(), "hidden") || !strings.Contains(b.String(), "msg=shown") {
		t.Errorf("text log = %q", b.String())
	}
}

// TestValidateRefusesZeroMaxReplicas: 0 used to become 1000 silently; it is
// refused with a message naming the flag and the range.
func TestValidateRefusesZeroMaxReplicas(t *testing.T) {
	o, err := parse(t, append(files(t), "--max-replicas=0"), nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := o.Validate()
	if len(errs) != 1 || errs[0].Error() != "--max-replicas 0: must be between 1 and 2147483647" {
		t.Fatalf("Validate() = %v, want one problem naming --max-replicas 0", errs)
	}
}

// TestDefaultNamespace: which namespace the un-namespaced single-Deployment
// paths act on, and which --default-namespace values are refused.
func TestDefaultNamespace(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    string // the completed DefaultNamespace
		wantErr string // a problem Validate reports instead
	}{
		{name: "all namespaces", want: "default"},
		{name: "the only --namespace", args: []string{"--namespace=shop"}, want: "shop"},
		{name: "several namespaces keep the default", args: []string{"--namespace=shop,default"}, want: "default"},
		{name: "explicit and watched", args: []string{"--namespace=shop,web", "--default-namespace=web"}, want: "web"},
		{name: "from the environment", args: []string{"--namespace=shop,web"}, env: map[string]string{"REPLICASD_DEFAULT_NAMESPACE": "web"}, want: "web"},
		{name: "explicit, any namespace when all are watched", args: []string{"--default-namespace=ops"}, want: "ops"},
		{
			name: "explicit but not watched", args: []string{"--namespace=shop", "--default-namespace=default"},
			wantErr: `--default-namespace "default" is not one of the watched namespaces (--namespace shop)`,
		},
		{
			name: "from the environment, not watched", args: []string{"--namespace=shop"}, env: map[string]string{"REPLICASD_DEFAULT_NAMESPACE": "web"},
			wantErr: `--default-namespace "web" is not one of the watched namespaces (--namespace shop)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(t, append(files(t), append(tt.args, "--kubeconfig="+kubeconfig(t))...), tt.env)
			if err != nil {
				t.Fatal(err)
			}
			errs := o.Validate()
			if tt.wantErr != "" {
				if len(errs) != 1 || errs[0].Error() != tt.wantErr {
					t.Fatalf("Validate() = %v, want %q", errs, tt.wantErr)
				}
				return
			}
			if len(errs) != 0 {
				t.Fatalf("Validate() = %v", errs)
			}
			defer klog.ClearLogger()
			cfg, err := o.Complete(io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.DefaultNamespace != tt.want {
				t.Errorf("DefaultNamespace = %q, want %q", cfg.DefaultNamespace, tt.want)
			}
		})
	}
}
