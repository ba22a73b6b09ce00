package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/replicasd/replicasd/bench/internal/heap"
	"github.com/replicasd/replicasd/bench/internal/load"
)

func sample(reqPerSec, p99 float64) load.Sample {
	return load.Sample{ReqPerSec: reqPerSec, P50: p99 / 2, P99: p99, Success: 1,
		CPU: map[string]float64{"client": 0.5}, CPUPerRequest: map[string]float64{"server": 50}}
}

func fixture() *Results {
	r := &Results{
		Date:     "2026-01-02T03:04:05Z",
		Machine:  Machine{NProc: 2, CPUModel: "Test CPU"},
		Versions: map[string]string{"go": "go1.26", "replicasd": "v1"},
		Settings: Settings{Sizes: []int{1000, 10000}, PrimarySize: 10000, Runs: 3, GetConns: 32, ListConns: 8, PutRate: 10},
		Heap: []heap.Result{
			{Source: "fake", Deployments: 10000, Transform: true, BytesPerDeployment: 1400},
			{Source: "fake", Deployments: 10000, Transform: false, BytesPerDeployment: 11000},
		},
		Propagation:  &Propagation{Changes: 200, FromResponse: Quantiles{P50Ms: 2, P99Ms: 8}, FromRequest: Quantiles{P50Ms: 10, P99Ms: 60}},
		StartToReady: []StartToReady{{Deployments: 10000, Seconds: []float64{1, 2, 3}, Median: 2}},
		KubeAPICalls: &KubeAPICalls{Available: true, DuringLoad: 5, LoadSeconds: 10, GETs: 10000, Idle: 5, IdleSeconds: 10},
	}
	for _, proto := range []string{H2, H1} {
		r.HTTP = append(r.HTTP,
			Measurement{Row: RowGetMax, Size: 10000, Side: Replicasd, Proto: proto, Median: sample(9000, 2)},
			Measurement{Row: RowGetMax, Size: 10000, Side: APIServer, Proto: proto, Median: sample(1000, 40)},
			Measurement{Row: RowGetMax, Size: 10000, Side: Baseline, Proto: proto, Median: sample(10000, 1.5)},
			Measurement{Row: RowGetFixed, Size: 10000, Side: Replicasd, Proto: proto, Rate: 500, Median: sample(500, 1)},
			Measurement{Row: RowGetFixed, Size: 10000, Side: APIServer, Proto: proto, Rate: 500, Median: sample(500, 10)},
			Measurement{Row: RowList, Size: 10000, Side: Replicasd, Proto: proto, Median: sample(300, 30)},
			Measurement{Row: RowList, Size: 10000, Side: APIServer, Proto: proto, Median: sample(2, 3000)},
			Measurement{Row: RowHandshake, Size: 10000, Side: Replicasd, Proto: proto, Median: sample(1900, 20)},
			Measurement{Row: RowHandshake, Size: 10000, Side: Baseline, Proto: proto, Median: sample(2000, 20)},
		)
	}
	return r
}

func TestEvaluate(t *testing.T) {
	got := map[string]Target{}
	for _, tg := range Evaluate(fixture()) {
		got[tg.Name] = tg
	}
	tests := []struct {
		name     string
		measured string
		met      bool
	}{
		{name: "GET one throughput vs kube-apiserver (h2)", measured: "9.0×", met: true},
		{name: "GET one throughput vs baseline (http/1.1)", measured: "90%", met: true},
		{name: "GET one p99 vs kube-apiserver's, at its half rate (h2)", measured: "1/10.0 (1.00 vs 10.00 ms)", met: true},
		{name: "LIST of 10k vs kube-apiserver (h2)", measured: "150.0×", met: true},
		{name: "full mTLS handshakes, ECDSA P-256 (h2)", measured: "1900/s", met: false},
		{name: "full mTLS handshakes vs baseline (h2)", measured: "95%", met: true},
		{name: "cache heap per Deployment at 10k (fake objects)", measured: "1.37 KiB", met: true},
		{name: "propagation p99 (client-go scale answered → replicasd GET shows it)", measured: "8.0 ms (60.0 ms counting the write itself)", met: true},
		{name: "start to ready with 10k Deployments", measured: "2.00 s (median of 3)", met: true},
		{name: "Kubernetes API calls per GET", measured: "0.00000 (5 calls during 10,000 requests, 5 expected from the idle rate)", met: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, ok := got[tt.name]
			if !ok {
				t.Fatalf("no target %q among %v", tt.name, got)
			}
			if tg.Measured != tt.measured || tg.Met != tt.met {
				t.Errorf("target = %q met %v, want %q met %v", tg.Measured, tg.Met, tt.measured, tt.met)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	md := Markdown(fixture(), "benchmarks.png")
	for _, want := range []string{
		"![throughput and p99, side by side](benchmarks.png)",
		"| GET one, max rate (32 conns) | h2 | **9,000/s** · p99 2.00 ms · 50 µs CPU | **1,000/s** · p99 40.0 ms · 50 µs CPU | **10,000/s** · p99 1.50 ms · 50 µs CPU | 9.0× (CPU/request ×1.00) | 90% (CPU/request ×1.00) |",
		"| GET one at 500/s (½ kube-apiserver's max): p50 / p99 | h2 | **0.50 / 1.00 ms** · 50 µs CPU | **5.00 / 10.0 ms** · 50 µs CPU | – | p99 1/10.0 | – |",
		"| LIST 10k Deployments, max rate (8 conns) | http/1.1 |",
		"| start to ready, 10k Deployments | **2.00 s** (median of 1.00, 2.00, 3.00 s) |",
		"| 10,000 | in-process fake API server (JSON) | **1.37 KiB** | 10.74 KiB | 87% |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestUpdateSection(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{
			name: "replaces between the markers",
			doc:  "# Title\n\n" + SectionBegin + "\nold\n" + SectionEnd + "\n\nafter\n",
			want: "# Title\n\n" + SectionBegin + "\n\nnew\n\n" + SectionEnd + "\n\nafter\n",
		},
		{
			name: "appends without markers",
			doc:  "# Title",
			want: "# Title\n\n" + SectionBegin + "\n\nnew\n\n" + SectionEnd + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "doc.md")
			if err := os.WriteFile(path, []byte(tt.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := UpdateSection(path, "new\n"); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("document = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chart.png")
	if err := Chart(fixture(), path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 1000 || string(b[1:4]) != "PNG" {
		t.Errorf("chart is %d bytes starting %q, want a PNG", len(b), b[:min(8, len(b))])
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -1500: "-1,500"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}
