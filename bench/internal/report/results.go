// Package report holds the benchmark's results, and writes them as JSON,
// as a Markdown table and as a chart.
package report

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/replicasd/replicasd/bench/internal/heap"
	"github.com/replicasd/replicasd/bench/internal/load"
)

// Sides of every HTTP row.
const (
	Replicasd = "replicasd"
	APIServer = "kube-apiserver"
	Baseline  = "baseline"
)

// Protocols measured.
const (
	H2 = "h2"
	H1 = "http/1.1"
)

// Rows.
const (
	RowGetMax    = "get-max"
	RowGetFixed  = "get-fixed"
	RowList      = "list"
	RowPut       = "put"
	RowHandshake = "handshake"
)

// Results is everything one run of the benchmark measured.
type Results struct {
	Date     string            `json:"date"`
	Quick    bool              `json:"quick"`
	Machine  Machine           `json:"machine"`
	Versions map[string]string `json:"versions"`
	Settings Settings          `json:"settings"`
	// HTTP holds one entry per row, size, side and protocol.
	HTTP         []Measurement  `json:"http"`
	KubeAPICalls *KubeAPICalls  `json:"kubeApiCallsDuringGetLoad,omitempty"`
	Heap         []heap.Result  `json:"cacheHeap"`
	Propagation  *Propagation   `json:"propagation,omitempty"`
	StartToReady []StartToReady `json:"startToReady"`
	Targets      []Target       `json:"targets"`
}

// Machine describes where the run happened, and how loaded the machine was.
type Machine struct {
	NProc    int    `json:"nproc"`
	CPUModel string `json:"cpuModel"`
	MemTotal string `json:"memTotal"`
	Kernel   string `json:"kernel"`
	// LoadAvg is /proc/loadavg's 1-minute average at the start and the end.
	LoadAvgStart float64 `json:"loadAvgStart"`
	LoadAvgEnd   float64 `json:"loadAvgEnd"`
}

// Settings are the knobs of the run.
type Settings struct {
	Sizes           []int   `json:"sizes"`
	PrimarySize     int     `json:"primarySize"`
	Runs            int     `json:"runs"`
	WarmupSeconds   float64 `json:"warmupSeconds"`
	DurationSeconds float64 `json:"durationSeconds"`
	GetConns        int     `json:"getConns"`
	ListConns       int     `json:"listConns"`
	PutConns        int     `json:"putConns"`
	PutRate         float64 `json:"putRate"`
	HandshakeConns  int     `json:"handshakeConns"`
	BodyBytes       int     `json:"getBodyBytes"`
	Notes           string  `json:"notes,omitempty"`
}

// Measurement is one HTTP row for one side and protocol: every run and
// the per-field median.
type Measurement struct {
	Row   string  `json:"row"`
	Size  int     `json:"size"`
	Side  string  `json:"side"`
	Proto string  `json:"proto"`
	Rate  float64 `json:"rate,omitempty"`
	// Median holds the median of each field over Runs.
	Median load.Sample   `json:"median"`
	Runs   []load.Sample `json:"runs"`
	// ReadYourWrites is replicasd's read-your-writes wait during a PUT
	// row, from its histogram, one per run, and their median.
	ReadYourWrites       []Quantiles `json:"readYourWrites,omitempty"`
	ReadYourWritesMedian *Quantiles  `json:"readYourWritesMedian,omitempty"`
}

// Quantiles summarises a latency distribution in milliseconds.
type Quantiles struct {
	Count  float64 `json:"count"`
	MeanMs float64 `json:"meanMs"`
	P50Ms  float64 `json:"p50Ms"`
	P99Ms  float64 `json:"p99Ms"`
	Source string  `json:"source"`
}

// KubeAPICalls counts the Kubernetes API requests replicasd made.
type KubeAPICalls struct {
	// Available is false when replicasd has no
	// replicasd_kube_api_requests_total metric.
	Available bool `json:"available"`
	// DuringLoad is the increase during the GET rows, which lasted
	// LoadSeconds and served GETs requests.
	DuringLoad  float64 `json:"duringLoad"`
	LoadSeconds float64 `json:"loadSeconds"`
	GETs        float64 `json:"gets"`
	// Idle is the increase during IdleSeconds without load: the health
	// probe's background calls.
	Idle        float64 `json:"idle"`
	IdleSeconds float64 `json:"idleSeconds"`
	// PerGET is (DuringLoad - Idle scaled to LoadSeconds) / GETs,
	// floored at 0.
	PerGET float64 `json:"perGet"`
	// ByLabel breaks DuringLoad down by the metric's labels.
	ByLabel map[string]float64 `json:"byLabel,omitempty"`
}

// Propagation is how long a scale made with client-go took to show in
// replicasd's GET, in milliseconds.
type Propagation struct {
	Changes int `json:"changes"`
	// FromResponse counts from the moment kube-apiserver answered the
	// update; FromRequest from the moment client-go sent it.
	FromResponse Quantiles `json:"fromResponse"`
	FromRequest  Quantiles `json:"fromRequest"`
	MaxMs        float64   `json:"maxMs"`
}

// StartToReady is the time from starting the replicasd process to its
// /readyz answering 200.
type StartToReady struct {
	Deployments int       `json:"deployments"`
	Seconds     []float64 `json:"seconds"`
	Median      float64   `json:"medianSeconds"`
}

// Target is one goal of the issue and whether this run met it.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// Find returns the measurement of row, size, side and proto, or nil.
func (r *Results) Find(row string, size int, side, proto string) *Measurement {
	for i := range r.HTTP {
		m := &r.HTTP[i]
		if m.Row == row && m.Size == size && m.Side == side && m.Proto == proto {
			return m
		}
	}
	return nil
}

// WriteJSON writes r, indented, to path.
func (r *Results) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	return nil
}

// ReadJSON reads results written by WriteJSON.
func ReadJSON(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &r, nil
}
