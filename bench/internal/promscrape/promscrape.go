// Package promscrape reads a Prometheus /metrics page and computes
// counter increases and histogram quantiles between two scrapes.
package promscrape

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Snapshot is one scrape.
type Snapshot map[string]*dto.MetricFamily

// Scrape fetches url (plain HTTP) and parses it.
func Scrape(ctx context.Context, url string) (Snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping %s: status %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", url, err)
	}
	return families, nil
}

// Has reports whether the family name exists.
func (s Snapshot) Has(name string) bool { _, ok := s[name]; return ok }

// Counters returns the value of every series of a counter family, keyed
// by its labels ("a=x,b=y").
func (s Snapshot) Counters(name string) map[string]float64 {
	out := map[string]float64{}
	f, ok := s[name]
	if !ok {
		return out
	}
	for _, m := range f.GetMetric() {
		v := m.GetCounter().GetValue()
		if m.GetCounter() == nil && m.GetUntyped() != nil {
			v = m.GetUntyped().GetValue()
		}
		out[labelKey(m)] += v
	}
	return out
}

// CounterIncrease returns, per series, how much the counter family name
// grew from before to after, and the total.
func CounterIncrease(before, after Snapshot, name string) (map[string]float64, float64) {
	b, a := before.Counters(name), after.Counters(name)
	out := map[string]float64{}
	total := 0.0
	for k, v := range a {
		if d := v - b[k]; d != 0 {
			out[k] = d
			total += d
		}
	}
	return out, total
}

// Histogram is a cumulative histogram: bucket upper bounds and counts.
type Histogram struct {
	Bounds []float64
	Counts []float64
	Count  float64
	Sum    float64
}

// HistogramOf sums every series of the histogram family name.
func (s Snapshot) HistogramOf(name string) Histogram {
	var h Histogram
	f, ok := s[name]
	if !ok {
		return h
	}
	byBound := map[float64]float64{}
	for _, m := range f.GetMetric() {
		hm := m.GetHistogram()
		h.Count += float64(hm.GetSampleCount())
		h.Sum += hm.GetSampleSum()
		for _, b := range hm.GetBucket() {
			byBound[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
	}
	for b := range byBound {
		h.Bounds = append(h.Bounds, b)
	}
	sort.Float64s(h.Bounds)
	for _, b := range h.Bounds {
		h.Counts = append(h.Counts, byBound[b])
	}
	return h
}

// Sub returns the histogram of the observations between earlier and h.
func (h Histogram) Sub(earlier Histogram) Histogram {
	out := Histogram{Count: h.Count - earlier.Count, Sum: h.Sum - earlier.Sum}
	prev := map[float64]float64{}
	for i, b := range earlier.Bounds {
		prev[b] = earlier.Counts[i]
	}
	for i, b := range h.Bounds {
		out.Bounds = append(out.Bounds, b)
		out.Counts = append(out.Counts, h.Counts[i]-prev[b])
	}
	return out
}

// Quantile estimates the q-quantile as Prometheus' histogram_quantile
// does: linear interpolation inside the bucket that holds it. NaN when
// the histogram is empty.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count == 0 || len(h.Bounds) == 0 {
		return math.NaN()
	}
	rank := q * h.Count
	lower, below := 0.0, 0.0
	for i, upper := range h.Bounds {
		if h.Counts[i] >= rank {
			if math.IsInf(upper, 1) {
				return lower // the quantile is beyond the last finite bound
			}
			inBucket := h.Counts[i] - below
			if inBucket == 0 {
				return upper
			}
			return lower + (upper-lower)*(rank-below)/inBucket
		}
		lower, below = upper, h.Counts[i]
	}
	return lower
}

func labelKey(m *dto.Metric) string {
	parts := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
