package promscrape

import (
	"math"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func parse(t *testing.T, text string) Snapshot {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	f, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const histBefore = `# TYPE wait_seconds histogram
wait_seconds_bucket{le="0.001"} 0
wait_seconds_bucket{le="0.01"} 10
wait_seconds_bucket{le="0.1"} 10
wait_seconds_bucket{le="+Inf"} 10
wait_seconds_sum 0.05
wait_seconds_count 10
`

const histAfter = `# TYPE wait_seconds histogram
wait_seconds_bucket{le="0.001"} 50
wait_seconds_bucket{le="0.01"} 110
wait_seconds_bucket{le="0.1"} 110
wait_seconds_bucket{le="+Inf"} 110
wait_seconds_sum 0.15
wait_seconds_count 110
# TYPE calls_total counter
calls_total{verb="GET",code="200"} 7
calls_total{verb="PUT",code="200"} 3
`

func TestHistogramQuantile(t *testing.T) {
	h := parse(t, histAfter).HistogramOf("wait_seconds").Sub(parse(t, histBefore).HistogramOf("wait_seconds"))
	tests := []struct {
		name string
		q    float64
		want float64
	}{
		// 50 observations in (0, 1ms], 50 in (1ms, 10ms].
		{name: "median at the first bound", q: 0.5, want: 0.001},
		{name: "p25 inside the first bucket", q: 0.25, want: 0.0005},
		{name: "p99 inside the second bucket", q: 0.99, want: 0.001 + 0.009*(99-50)/50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.Quantile(tt.q); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
	if h.Count != 100 {
		t.Errorf("Count = %v, want 100", h.Count)
	}
	if !math.IsNaN((Histogram{}).Quantile(0.5)) {
		t.Error("an empty histogram's quantile is not NaN")
	}
}

func TestCounterIncrease(t *testing.T) {
	before := parse(t, "# TYPE calls_total counter\ncalls_total{verb=\"GET\",code=\"200\"} 5\n")
	after := parse(t, histAfter)
	by, total := CounterIncrease(before, after, "calls_total")
	if total != 5 {
		t.Errorf("total = %v, want 5", total)
	}
	if by["code=200,verb=GET"] != 2 || by["code=200,verb=PUT"] != 3 {
		t.Errorf("by label = %v", by)
	}
	if _, total := CounterIncrease(before, after, "missing_total"); total != 0 {
		t.Errorf("missing family total = %v, want 0", total)
	}
}
