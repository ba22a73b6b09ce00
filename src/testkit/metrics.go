package testkit

import (
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// Sample returns the value of the series of f whose labels are exactly
// labels ("key=value" pairs): a counter's, gauge's or untyped value, or a
// histogram's sample count. It reports false when f is nil or holds no
// such series.
func Sample(f *dto.MetricFamily, labels ...string) (float64, bool) {
series:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) != len(labels) {
			continue
		}
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			if value, ok := got[k]; !ok || value != v {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}
