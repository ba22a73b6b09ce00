// Package load drives HTTP load with vegeta over a fixed set of
// connections and summarises what it measured, with the CPU time the
// servers under test spent meanwhile.
package load

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/replicasd/replicasd/bench/internal/proc"
)

// Spec is one measurement: a targeter attacked at Rate (0 = as fast as
// Pool's connections allow, one request in flight on each) for Duration,
// after Warmup on the same connections.
type Spec struct {
	Name     string
	Targeter vegeta.Targeter
	Pool     PoolConfig
	Rate     float64
	Warmup   time.Duration
	Duration time.Duration
	// Servers are the processes whose CPU time is recorded, by label.
	Servers map[string]int
}

// Sample is what one run measured. Latencies are in milliseconds.
type Sample struct {
	Requests  uint64  `json:"requests"`
	Seconds   float64 `json:"seconds"`
	ReqPerSec float64 `json:"reqPerSec"`
	// Success is the fraction of 2xx/3xx answers.
	Success float64 `json:"success"`
	P50     float64 `json:"p50Ms"`
	P90     float64 `json:"p90Ms"`
	P99     float64 `json:"p99Ms"`
	Max     float64 `json:"maxMs"`
	// CPU is the cores each server process used on average during the
	// run (CPU seconds / wall seconds), by label; "client" is this process.
	CPU map[string]float64 `json:"cpuCores"`
	// CPUPerRequest is the server CPU time per successful request in
	// microseconds, by label.
	CPUPerRequest map[string]float64 `json:"cpuUsPerRequest"`
	StatusCodes   map[string]int     `json:"statusCodes,omitempty"`
	Errors        []string           `json:"errors,omitempty"`
	// Protocol is the protocol the responses came over (h2 or http/1.1).
	Protocol string `json:"protocol"`
}

// Run warms up, then measures one Sample.
func Run(ctx context.Context, spec Spec) (Sample, error) {
	pool := NewPool(spec.Pool)
	defer pool.Close()
	client := pool.Client(60 * time.Second)
	if spec.Warmup > 0 {
		if _, err := attack(ctx, spec, client, spec.Warmup); err != nil {
			return Sample{}, fmt.Errorf("%s: warm-up: %w", spec.Name, err)
		}
	}
	h2Before, h1Before := pool.Protocols()
	before := map[string]proc.CPU{}
	for label, pid := range spec.Servers {
		c, err := proc.CPUTime(pid)
		if err != nil {
			return Sample{}, fmt.Errorf("%s: %w", spec.Name, err)
		}
		before[label] = c
	}
	self, err := proc.Self()
	if err != nil {
		return Sample{}, err
	}
	start := time.Now()
	m, err := attack(ctx, spec, client, spec.Duration)
	if err != nil {
		return Sample{}, fmt.Errorf("%s: %w", spec.Name, err)
	}
	wall := time.Since(start).Seconds()
	s := Sample{
		Requests:      m.Requests,
		Seconds:       m.Duration.Seconds() + m.Wait.Seconds(),
		ReqPerSec:     m.Throughput,
		Success:       m.Success,
		P50:           ms(m.Latencies.P50),
		P90:           ms(m.Latencies.P90),
		P99:           ms(m.Latencies.P99),
		Max:           ms(m.Latencies.Max),
		CPU:           map[string]float64{},
		CPUPerRequest: map[string]float64{},
		StatusCodes:   m.StatusCodes,
	}
	if len(m.Errors) > 0 {
		s.Errors = m.Errors[:min(len(m.Errors), 5)]
	}
	successes := float64(m.Requests) * m.Success
	for label, pid := range spec.Servers {
		after, err := proc.CPUTime(pid)
		if err != nil {
			return Sample{}, fmt.Errorf("%s: %w", spec.Name, err)
		}
		used := after.Sub(before[label]).Seconds()
		s.CPU[label] = used / wall
		if successes > 0 {
			s.CPUPerRequest[label] = used / successes * 1e6
		}
	}
	if selfAfter, err := proc.Self(); err == nil {
		s.CPU["client"] = selfAfter.Sub(self).Seconds() / wall
	}
	h2, h1 := pool.Protocols()
	switch h2, h1 = h2-h2Before, h1-h1Before; {
	case h2 > 0 && h1 == 0:
		s.Protocol = "h2"
	case h1 > 0 && h2 == 0:
		s.Protocol = "http/1.1"
	case h1 > 0:
		s.Protocol = "mixed"
	}
	return s, nil
}

func attack(ctx context.Context, spec Spec, client *http.Client, d time.Duration) (*vegeta.Metrics, error) {
	workers := uint64(spec.Pool.Conns)
	a := vegeta.NewAttacker(
		vegeta.Client(client),
		// Exactly one worker per connection: a closed loop at Rate 0, and
		// at a fixed rate no extra workers (and connections) either.
		vegeta.Workers(workers),
		vegeta.MaxWorkers(workers),
		// The bodies are checked once before the row; during it they are
		// read and discarded without being kept.
		vegeta.MaxBody(0),
		vegeta.Redirects(vegeta.NoFollow),
	)
	pacer := vegeta.ConstantPacer{Freq: int(spec.Rate), Per: time.Second}
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	var m vegeta.Metrics
	for res := range a.Attack(spec.Targeter, pacer, d, spec.Name) {
		m.Add(res)
	}
	m.Close()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.Requests == 0 {
		return nil, fmt.Errorf("no requests were sent")
	}
	return &m, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Median returns the sample whose every field is the median of that field
// over samples (so the result may not be one of the runs).
func Median(samples []Sample) Sample {
	if len(samples) == 0 {
		return Sample{}
	}
	pick := func(f func(Sample) float64) float64 {
		v := make([]float64, len(samples))
		for i, s := range samples {
			v[i] = f(s)
		}
		return median(v)
	}
	out := Sample{
		Requests:      uint64(pick(func(s Sample) float64 { return float64(s.Requests) })),
		Seconds:       pick(func(s Sample) float64 { return s.Seconds }),
		ReqPerSec:     pick(func(s Sample) float64 { return s.ReqPerSec }),
		Success:       pick(func(s Sample) float64 { return s.Success }),
		P50:           pick(func(s Sample) float64 { return s.P50 }),
		P90:           pick(func(s Sample) float64 { return s.P90 }),
		P99:           pick(func(s Sample) float64 { return s.P99 }),
		Max:           pick(func(s Sample) float64 { return s.Max }),
		CPU:           map[string]float64{},
		CPUPerRequest: map[string]float64{},
		Protocol:      samples[0].Protocol,
	}
	for label := range samples[0].CPU {
		out.CPU[label] = pick(func(s Sample) float64 { return s.CPU[label] })
	}
	for label := range samples[0].CPUPerRequest {
		out.CPUPerRequest[label] = pick(func(s Sample) float64 { return s.CPUPerRequest[label] })
	}
	return out
}

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
