package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/replicasd/replicasd/bench/internal/kube"
	"github.com/replicasd/replicasd/bench/internal/proc"
	"github.com/replicasd/replicasd/bench/internal/report"
)

// config is the run subcommand's flags.
type config struct {
	kubeconfig       string
	pkiDir           string
	apiserverPIDFile string
	etcdPIDFile      string
	replicasdBin     string
	certsDir         string
	workDir          string
	versions         string

	sizes     []int
	heapSizes []int
	runs      int
	warmup    time.Duration
	duration  time.Duration
	idle      time.Duration

	getConns       int
	listConns      int
	handshakeConns int
	putConns       int
	putRate        float64
	changes        int
	startRuns      int
	seedWorkers    int

	outJSON string
	outMD   string
	chart   string
	docs    string
	quick   bool
	// profileDir, when set, gets CPU profiles of replicasd under the GET
	// load (replicasd runs with --profiling).
	profileDir string
}

func parseRunFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "the cluster's admin kubeconfig (seeding, scaling, replicasd)")
	fs.StringVar(&c.pkiDir, "pki-dir", "", "the cluster's PKI directory (ca.crt, ca.key): kube-apiserver's client CA")
	fs.StringVar(&c.apiserverPIDFile, "apiserver-pid-file", "", "kube-apiserver's pid file, for its CPU time")
	fs.StringVar(&c.etcdPIDFile, "etcd-pid-file", "", "etcd's pid file, for its CPU time")
	fs.StringVar(&c.replicasdBin, "replicasd", "bin/replicasd", "the replicasd binary")
	fs.StringVar(&c.certsDir, "certs", "", "replicasd certs output: ca.crt, server.crt, server.key, bench.crt, bench.key")
	fs.StringVar(&c.workDir, "work-dir", "bench/tmp/work", "logs and scratch files")
	fs.StringVar(&c.versions, "versions", "", "extra versions to record: name=version,...")
	sizes := fs.String("sizes", "1000,10000", "Deployments in the cluster for the LIST rows; the largest is used for every other row")
	heapSizes := fs.String("heap-sizes", "1000,10000,50000", "Deployments for the cache heap measurement")
	fs.IntVar(&c.runs, "runs", 3, "runs of every HTTP row; the table shows the median")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up before each run, on the same connections")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "length of each run")
	fs.DurationVar(&c.idle, "idle", 10*time.Second, "idle window that measures replicasd's background Kubernetes API calls")
	fs.IntVar(&c.getConns, "get-conns", 32, "connections (one request in flight each) for GET one")
	fs.IntVar(&c.listConns, "list-conns", 4, "connections for LIST")
	fs.IntVar(&c.handshakeConns, "handshake-conns", 32, "concurrent new connections for the handshake row")
	fs.IntVar(&c.putConns, "put-conns", 8, "connections for PUT")
	fs.Float64Var(&c.putRate, "put-rate", 10, "PUTs per second")
	fs.IntVar(&c.changes, "propagation-changes", 200, "client-go scale changes for the propagation row")
	fs.IntVar(&c.startRuns, "start-runs", 3, "replicasd starts timed at the largest size")
	fs.IntVar(&c.seedWorkers, "seed-workers", 32, "concurrent requests when seeding")
	fs.StringVar(&c.outJSON, "out-json", "bench/results.json", "raw results")
	fs.StringVar(&c.outMD, "out-md", "", "the Markdown table alone")
	fs.StringVar(&c.chart, "chart", "docs/benchmarks.png", "the chart (PNG); empty: none")
	fs.StringVar(&c.docs, "docs", "", "a Markdown file whose generated section (between the bench-results markers) is replaced")
	fs.BoolVar(&c.quick, "quick", false, "mark the results as a quick run")
	fs.StringVar(&c.profileDir, "profile-dir", "", "after the GET rows, write CPU profiles of replicasd under the same load to this directory (get-h2.pprof, get-http1.1.pprof); empty: none")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var errs []error
	var err error
	if c.sizes, err = parseInts(*sizes); err != nil || len(c.sizes) == 0 {
		errs = append(errs, fmt.Errorf("--sizes %q: want comma-separated counts", *sizes))
	}
	if c.heapSizes, err = parseInts(*heapSizes); err != nil {
		errs = append(errs, fmt.Errorf("--heap-sizes %q: want comma-separated counts", *heapSizes))
	}
	for name, v := range map[string]string{"kubeconfig": c.kubeconfig, "pki-dir": c.pkiDir, "certs": c.certsDir,
		"apiserver-pid-file": c.apiserverPIDFile, "etcd-pid-file": c.etcdPIDFile} {
		if v == "" {
			errs = append(errs, fmt.Errorf("--%s is required", name))
		}
	}
	if c.runs < 1 {
		errs = append(errs, errors.New("--runs must be at least 1"))
	}
	slices.Sort(c.sizes)
	return c, errors.Join(errs...)
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// bench is one run of the benchmark.
type bench struct {
	cfg  config
	log  *slog.Logger
	kube kubernetes.Interface
	self string // this binary, for the child processes

	apiserverURL string
	apiTLS       *tls.Config // ECDSA client certificate in system:masters
	rsdTLS       *tls.Config // replicasd's bench client certificate
	apiserverPID int
	etcdPID      int

	replicasd *proc.Child
	rsdAddr   string
	opsAddr   string
	baseline  *proc.Child
	baseAddr  string
	getBody   []byte

	res *report.Results
}

func runCommand(ctx context.Context, args []string, log *slog.Logger) error {
	cfg, err := parseRunFlags(args)
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, log: log}
	if err := b.setup(); err != nil {
		return err
	}
	defer b.stopAll()
	if err := b.run(ctx); err != nil {
		return err
	}
	return b.write()
}

func (b *bench) setup() error {
	if err := os.MkdirAll(b.cfg.workDir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b.self = self
	restCfg, err := kube.RESTConfig(b.cfg.kubeconfig)
	if err != nil {
		return err
	}
	b.apiserverURL = strings.TrimSuffix(restCfg.Host, "/")
	if b.kube, err = kube.Client(restCfg); err != nil {
		return err
	}
	if b.apiTLS, err = kube.AdminTLS(b.cfg.pkiDir); err != nil {
		return err
	}
	certs := b.cfg.certsDir
	if b.rsdTLS, err = kube.ClientTLS(filepath.Join(certs, "bench.crt"), filepath.Join(certs, "bench.key"), filepath.Join(certs, "ca.crt")); err != nil {
		return err
	}
	if b.apiserverPID, err = readPIDFile(b.cfg.apiserverPIDFile); err != nil {
		return err
	}
	if b.etcdPID, err = readPIDFile(b.cfg.etcdPIDFile); err != nil {
		return err
	}
	b.res = &report.Results{
		Date:  time.Now().UTC().Format(time.RFC3339),
		Quick: b.cfg.quick,
		Settings: report.Settings{
			Sizes:           b.cfg.sizes,
			PrimarySize:     b.primarySize(),
			Runs:            b.cfg.runs,
			WarmupSeconds:   b.cfg.warmup.Seconds(),
			DurationSeconds: b.cfg.duration.Seconds(),
			GetConns:        b.cfg.getConns,
			ListConns:       b.cfg.listConns,
			PutConns:        b.cfg.putConns,
			PutRate:         b.cfg.putRate,
			HandshakeConns:  b.cfg.handshakeConns,
		},
	}
	b.res.Machine = machine()
	b.res.Versions = b.versions()
	return nil
}

func (b *bench) primarySize() int { return b.cfg.sizes[len(b.cfg.sizes)-1] }

func (b *bench) run(ctx context.Context) error {
	if err := b.measureHeap(ctx, "fake", b.cfg.heapSizes); err != nil {
		return err
	}
	// Largest first: the cluster a previous run left at its largest size
	// serves at once, and shrinking it (whole bands in one request each)
	// is much quicker than growing it.
	for _, size := range slices.Backward(b.cfg.sizes) {
		if err := kube.Seed(ctx, b.kube, size, b.cfg.seedWorkers, b.log); err != nil {
			return err
		}
		b.stopReplicasd()
		starts := 1
		if size == b.primarySize() {
			starts = b.cfg.startRuns
		}
		if err := b.startToReady(ctx, size, starts); err != nil {
			return err
		}
		if err := b.startReplicasd(ctx); err != nil {
			return err
		}
		if b.baseline == nil {
			if err := b.startBaseline(ctx); err != nil {
				return err
			}
		}
		if slices.Contains(b.cfg.heapSizes, size) {
			if err := b.measureHeap(ctx, "kwok", []int{size}); err != nil {
				return err
			}
		}
		if err := b.listRows(ctx, size); err != nil {
			return err
		}
		if size != b.primarySize() {
			continue
		}
		if err := b.getRows(ctx, size); err != nil {
			return err
		}
		if err := b.profileGets(ctx, size); err != nil {
			return err
		}
		if err := b.handshakeRows(ctx, size); err != nil {
			return err
		}
		if err := b.putRows(ctx, size); err != nil {
			return err
		}
		if err := b.propagation(ctx); err != nil {
			return err
		}
	}
	b.res.Machine.LoadAvgEnd = loadAvg()
	b.res.Targets = report.Evaluate(b.res)
	return nil
}

// write saves the results, the table, the chart and the docs section.
func (b *bench) write() error {
	if err := writeOutputs(b.res, b.cfg.outJSON, b.cfg.outMD, b.cfg.chart, b.cfg.docs); err != nil {
		return err
	}
	b.log.Info("benchmark done", "results", b.cfg.outJSON)
	fmt.Println(report.Markdown(b.res, chartLink(b.cfg.chart, b.cfg.docs)))
	return nil
}

func writeOutputs(res *report.Results, outJSON, outMD, chart, docs string) error {
	if outJSON != "" {
		if err := res.WriteJSON(outJSON); err != nil {
			return err
		}
	}
	if chart != "" {
		if err := report.Chart(res, chart); err != nil {
			return err
		}
	}
	md := report.Markdown(res, chartLink(chart, docs))
	if outMD != "" {
		if err := os.WriteFile(outMD, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if docs != "" {
		if err := report.UpdateSection(docs, md); err != nil {
			return err
		}
	}
	return nil
}

// chartLink is the chart's path relative to the docs file, for the image
// link.
func chartLink(chart, docs string) string {
	if chart == "" {
		return ""
	}
	if docs == "" {
		return filepath.Base(chart)
	}
	rel, err := filepath.Rel(filepath.Dir(docs), chart)
	if err != nil {
		return chart
	}
	return rel
}

// renderCommand rewrites the outputs from a results file.
func renderCommand(args []string) error {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	in := fs.String("results", "bench/results.json", "results file")
	chart := fs.String("chart", "docs/benchmarks.png", "the chart (PNG); empty: none")
	docs := fs.String("docs", "docs/benchmarks.md", "the Markdown file to update")
	outMD := fs.String("out-md", "", "the Markdown table alone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := report.ReadJSON(*in)
	if err != nil {
		return err
	}
	res.Targets = report.Evaluate(res)
	return writeOutputs(res, *in, *outMD, *chart, *docs)
}

func (b *bench) stopAll() {
	b.stopReplicasd()
	if b.baseline != nil {
		_ = b.baseline.Stop(5 * time.Second)
	}
}

func readPIDFile(path string) (int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", path, err)
	}
	if _, err := proc.CPUTime(pid); err != nil {
		return 0, fmt.Errorf("pid file %s names no running process: %w", path, err)
	}
	return pid, nil
}

// freeAddr returns a free loopback address.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
