// Package options turns flags and REPLICASD_* environment variables into a
// validated, completed app.Config.
package options

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/replicasd/replicasd/src/app"
	"github.com/replicasd/replicasd/src/authz"
	"github.com/replicasd/replicasd/src/deployments"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// EnvPrefix starts the environment variable of every flag:
// --kube-api-qps is read from REPLICASD_KUBE_API_QPS.
const EnvPrefix = "REPLICASD_"

// Options holds the raw command-line configuration of the server.
type Options struct {
	ListenAddress string
	OpsAddress    string

	TLSCertFile       string
	TLSPrivateKeyFile string
	ClientCAFile      string
	ClientCRLFile     string
	TLSMinVersion     string

	Kubeconfig string
	Context    string

	Namespaces       []string
	DefaultNamespace string
	MaxReplicas      int
	KubeAPIQPS       float32
	KubeAPIBurst     int

	CacheSyncTimeout          time.Duration
	ReadYourWritesTimeout     time.Duration
	MinResourceVersionTimeout time.Duration
	ShutdownTimeout           time.Duration
	KubeAPITimeout            time.Duration

	AuthorizationPolicyFile string

	WriteRateLimit      float64
	WriteBurst          int
	ReadRateLimit       float64
	ReadBurst           int
	MaxInflightRequests int
	// MaxInflightRequestsPerClient bounds one identity's share of it.
	MaxInflightRequestsPerClient int

	AuditLogPath   string
	AuditLogFormat string
	AuditReads     bool

	LogFormat string
	LogLevel  string

	// Profiling serves Go's pprof profiles on the ops address.
	Profiling bool

	// Version asks for the version to be printed instead of serving.
	Version bool

	// defaultNamespaceSet records whether --default-namespace was given, so
	// Complete can default it to the only watched namespace otherwise.
	defaultNamespaceSet bool
}

// New returns Options holding the contract's defaults.
func New() *Options {
	return &Options{
		ListenAddress:             ":8443",
		OpsAddress:                ":9090",
		TLSMinVersion:             "VersionTLS13",
		DefaultNamespace:          "default",
		MaxReplicas:               1000,
		KubeAPIQPS:                50,
		KubeAPIBurst:              100,
		CacheSyncTimeout:          60 * time.Second,
		ReadYourWritesTimeout:     5 * time.Second,
		MinResourceVersionTimeout: 5 * time.Second,
		ShutdownTimeout:           15 * time.Second,
		KubeAPITimeout:            deployments.DefaultKubeAPITimeout,
		WriteRateLimit:            10,
		WriteBurst:                20,
		ReadBurst:                 100,
		MaxInflightRequests:       400,
		// A quarter of the bound: one greedy identity leaves the rest to
		// the others.
		MaxInflightRequestsPerClient: 100,
		AuditLogPath:                 "-",
		AuditLogFormat:               "json",
		LogFormat:                    "json",
		LogLevel:                     "info",
	}
}

// AddFlags registers every flag of the contract on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ListenAddress, "listen-address", o.ListenAddress, "address of the mTLS API")
	fs.StringVar(&o.OpsAddress, "ops-address", o.OpsAddress, "address of the plain-HTTP probes and metrics")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", o.TLSCertFile, "server certificate (PEM), reloaded when it changes; required")
	fs.StringVar(&o.TLSPrivateKeyFile, "tls-private-key-file", o.TLSPrivateKeyFile, "server private key (PEM), reloaded when it changes; required")
	fs.StringVar(&o.ClientCAFile, "client-ca-file", o.ClientCAFile, "CA bundle (PEM) that client certificates must chain to, reloaded when it changes; required")
	fs.StringVar(&o.ClientCRLFile, "client-crl-file", o.ClientCRLFile, "PEM CRLs of the client CAs or of intermediate CAs in the clients' chains, reloaded when they change; a revoked client certificate is refused at the handshake, and with 403 on a connection opened before")
	fs.StringVar(&o.TLSMinVersion, "tls-min-version", o.TLSMinVersion, "lowest TLS version accepted: VersionTLS13 or VersionTLS12")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "kubeconfig file; default: in-cluster config, KUBECONFIG, ~/.kube/config")
	fs.StringVar(&o.Context, "context", o.Context, "kubeconfig context to use")
	fs.StringSliceVar(&o.Namespaces, "namespace", o.Namespaces, "namespace to watch and serve; repeatable or comma-separated; default all namespaces")
	fs.StringVar(&o.DefaultNamespace, "default-namespace", o.DefaultNamespace, "namespace of the un-namespaced paths (defaults to the only --namespace when exactly one is given)")
	fs.IntVar(&o.MaxReplicas, "max-replicas", o.MaxReplicas, "upper bound for a PUT's replicaCount; at least 1")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "client-side QPS limit towards the Kubernetes API")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "client-side burst limit towards the Kubernetes API")
	fs.DurationVar(&o.CacheSyncTimeout, "cache-sync-timeout", o.CacheSyncTimeout, "give up starting when the cache cannot sync within this time")
	fs.DurationVar(&o.ReadYourWritesTimeout, "read-your-writes-timeout", o.ReadYourWritesTimeout, "how long a PUT waits for the cache to show its write")
	fs.DurationVar(&o.MinResourceVersionTimeout, "min-resource-version-timeout", o.MinResourceVersionTimeout, "how long a GET with ?minResourceVersion waits before answering 504")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", o.ShutdownTimeout, "how long in-flight requests may take to finish after SIGTERM")
	fs.DurationVar(&o.KubeAPITimeout, "kube-api-timeout", o.KubeAPITimeout, "deadline for the Kubernetes API calls of one request; when it runs out the request answers 503")
	fs.StringVar(&o.AuthorizationPolicyFile, "authorization-policy-file", o.AuthorizationPolicyFile, "who may do what (YAML); none: every verified client may read and scale")
	fs.Float64Var(&o.WriteRateLimit, "write-rate-limit", o.WriteRateLimit, "PUTs per second allowed to each client identity, sustained; 0 turns the limit off")
	fs.IntVar(&o.WriteBurst, "write-burst", o.WriteBurst, "PUTs each client identity may send at once above --write-rate-limit")
	fs.Float64Var(&o.ReadRateLimit, "read-rate-limit", o.ReadRateLimit, "GETs per second allowed to each client identity, sustained (/health exempt); 0 turns the limit off")
	fs.IntVar(&o.ReadBurst, "read-burst", o.ReadBurst, "GETs each client identity may send at once above --read-rate-limit")
	fs.IntVar(&o.MaxInflightRequests, "max-inflight-requests", o.MaxInflightRequests, "API requests served at once; more get 429; 0 turns the bound off")
	fs.IntVar(&o.MaxInflightRequestsPerClient, "max-inflight-requests-per-client", o.MaxInflightRequestsPerClient, "API requests one client identity may have in flight at once; more get 429; 0 turns the bound off")
	fs.StringVar(&o.AuditLogPath, "audit-log-path", o.AuditLogPath, "where audit events go: a file (appended to, created with mode 0600) or - for stdout")
	fs.StringVar(&o.AuditLogFormat, "audit-log-format", o.AuditLogFormat, "format of the audit events: json (one object per line)")
	fs.BoolVar(&o.AuditReads, "audit-reads", o.AuditReads, "audit successful reads too (writes and refused requests always are)")
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "json or text")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "debug, info, warn or error")
	fs.BoolVar(&o.Profiling, "profiling", o.Profiling, "serve Go's pprof profiles under /debug/pprof/ on the ops address (plain HTTP, unauthenticated: keep it off unless that port is private)")
	fs.BoolVar(&o.Version, "version", false, "print the version and exit")
}

// EnvName is the environment variable read for a flag.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Parse parses args, then fills every flag not given on the command line
// from its REPLICASD_* environment variable: the command line wins.
func (o *Options) Parse(fs *pflag.FlagSet, args []string, lookupEnv func(string) (string, bool)) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			return
		}
		v, ok := lookupEnv(EnvName(f.Name))
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, err))
		}
	})
	o.defaultNamespaceSet = fs.Changed("default-namespace")
	return errors.Join(errs...)
}

// Validate returns every problem with the options at once, so a user fixes
// them in one round instead of one per start.
func (o *Options) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	checkAddress := func(flag, addr string) {
		if _, port, err := net.SplitHostPort(addr); err != nil {
			add("--%s %q: %v", flag, addr, err)
		} else if port == "" {
			add("--%s %q: missing port", flag, addr)
		}
	}
	checkAddress("listen-address", o.ListenAddress)
	checkAddress("ops-address", o.OpsAddress)
	if o.ListenAddress == o.OpsAddress {
		add("--listen-address and --ops-address must differ (both %q)", o.ListenAddress)
	}

	checkFile := func(flag, path string, required bool) {
		if path == "" {
			if required {
				add("--%s is required", flag)
			}
			return
		}
		st, err := os.Stat(path)
		switch {
		case err != nil:
			add("--%s: %v", flag, err)
		case st.IsDir():
			add("--%s %q is a directory, not a file", flag, path)
		}
	}
	checkFile("tls-cert-file", o.TLSCertFile, true)
	checkFile("tls-private-key-file", o.TLSPrivateKeyFile, true)
	checkFile("client-ca-file", o.ClientCAFile, true)
	checkFile("client-crl-file", o.ClientCRLFile, false)
	checkFile("authorization-policy-file", o.AuthorizationPolicyFile, false)
	if st, err := os.Stat(o.AuthorizationPolicyFile); o.AuthorizationPolicyFile != "" && err == nil && !st.IsDir() {
		// Every problem of the policy, each naming its line, before starting.
		if _, err := authz.ParseFile(o.AuthorizationPolicyFile); err != nil {
			add("--authorization-policy-file: %v", err)
		}
	}
	if o.Kubeconfig != "" {
		checkFile("kubeconfig", o.Kubeconfig, false)
	}
	if _, err := tlsconfig.ParseMinVersion(o.TLSMinVersion); err != nil {
		add("--tls-min-version: %v", err)
	}

	seen := map[string]bool{}
	for _, ns := range o.Namespaces {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			add("--namespace %q: %s", ns, strings.Join(msgs, "; "))
		}
		if seen[ns] {
			add("--namespace %q given twice", ns)
		}
		seen[ns] = true
	}
	if msgs := validation.IsDNS1123Label(o.DefaultNamespace); len(msgs) > 0 {
		add("--default-namespace %q: %s", o.DefaultNamespace, strings.Join(msgs, "; "))
	} else if len(o.Namespaces) > 0 && o.defaultNamespaceSet && !seen[o.DefaultNamespace] {
		add("--default-namespace %q is not one of the watched namespaces (--namespace %s)", o.DefaultNamespace, strings.Join(o.Namespaces, ","))
	}

	// 0 would allow only scaling to zero, which is seldom meant; older
	// releases even read it as the default of 1000. Refused, so that no
	// value means something other than what it says.
	if o.MaxReplicas < 1 || o.MaxReplicas > math.MaxInt32 {
		add("--max-replicas %d: must be between 1 and %d", o.MaxReplicas, math.MaxInt32)
	}
	if o.KubeAPIQPS <= 0 {
		add("--kube-api-qps %v: must be positive", o.KubeAPIQPS)
	}
	if o.KubeAPIBurst < 1 {
		add("--kube-api-burst %d: must be at least 1", o.KubeAPIBurst)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{
		{"cache-sync-timeout", o.CacheSyncTimeout},
		{"read-your-writes-timeout", o.ReadYourWritesTimeout},
		{"min-resource-version-timeout", o.MinResourceVersionTimeout},
		{"shutdown-timeout", o.ShutdownTimeout},
		{"kube-api-timeout", o.KubeAPITimeout},
	} {
		if d.v <= 0 {
			add("--%s %v: must be positive", d.flag, d.v)
		}
	}
	// A PUT's Kubernetes calls and its read-your-writes wait must end before
	// the API's write timeout cuts the connection, so the client gets 503.
	write := app.APIWriteTimeout(o.ReadYourWritesTimeout, o.MinResourceVersionTimeout)
	if room := write - o.ReadYourWritesTimeout; o.KubeAPITimeout > 0 && o.KubeAPITimeout >= room {
		add("--kube-api-timeout %v: must be below %v, the API's write timeout (%v) minus --read-your-writes-timeout (%v), "+
			"so that a PUT answers before its connection is cut", o.KubeAPITimeout, room, write, o.ReadYourWritesTimeout)
	}
	if o.AuditLogFormat != "json" {
		add("--audit-log-format %q: must be json", o.AuditLogFormat)
	}
	if o.AuditLogPath == "" {
		add("--audit-log-path is empty; give a file or - for stdout")
	} else if o.AuditLogPath != "-" {
		if st, err := os.Stat(o.AuditLogPath); err == nil && st.IsDir() {
			add("--audit-log-path %q is a directory, not a file", o.AuditLogPath)
		} else if st, err := os.Stat(filepath.Dir(o.AuditLogPath)); err != nil || !st.IsDir() {
			add("--audit-log-path %q: directory %q does not exist", o.AuditLogPath, filepath.Dir(o.AuditLogPath))
		}
	}
	for _, l := range []struct {
		rate, burst string
		r           float64
		b           int
	}{
		{"write-rate-limit", "write-burst", o.WriteRateLimit, o.WriteBurst},
		{"read-rate-limit", "read-burst", o.ReadRateLimit, o.ReadBurst},
	} {
		if !(l.r >= 0) || math.IsInf(l.r, 0) {
			add("--%s %v: must be a number of requests per second, or 0 for no limit", l.rate, l.r)
		}
		if l.b < 0 || (l.r > 0 && l.b < 1) {
			add("--%s %d: must be at least 1 while --%s is on", l.burst, l.b, l.rate)
		}
	}
	if o.MaxInflightRequests < 0 {
		add("--max-inflight-requests %d: must be 0 (no bound) or more", o.MaxInflightRequests)
	}
	if o.MaxInflightRequestsPerClient < 0 {
		add("--max-inflight-requests-per-client %d: must be 0 (no bound) or more", o.MaxInflightRequestsPerClient)
	}
	if o.LogFormat != "json" && o.LogFormat != "text" {
		add("--log-format %q: must be json or text", o.LogFormat)
	}
	if _, err := parseLevel(o.LogLevel); err != nil {
		add("--log-level: %v", err)
	}
	return errs
}
