package report

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// Markers around the generated section of the docs.
const (
	SectionBegin = "<!-- bench-results:begin (written by `make bench`; edits inside are lost) -->"
	SectionEnd   = "<!-- bench-results:end -->"
)

var sideOrder = []string{Replicasd, APIServer, Baseline}

// Markdown renders r: the conditions, the side-by-side table, the other
// rows and the targets. chart, when not empty, is linked as an image.
func Markdown(r *Results, chart string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	kind := "full run"
	if r.Quick {
		kind = "quick run (`make bench-quick`: short, not for quoting)"
	}
	w("Measured on %s, %s.\n\n", r.Date, kind)
	m := r.Machine
	w("- **Machine:** %d cores (`nproc`), %s, %s RAM, Linux %s. 1-minute load average %.1f at the start and %.1f at the end: ",
		m.NProc, m.CPUModel, m.MemTotal, m.Kernel, m.LoadAvgStart, m.LoadAvgEnd)
	w("the load generator and all three servers share these cores with whatever else runs, so the CPU time each side used is recorded too.\n")
	w("- **Versions:** %s.\n", versions(r.Versions))
	s := r.Settings
	w("- **Method:** every HTTP row runs with vegeta, each side in turn with the same settings, HTTP/2 and HTTP/1.1 separately; "+
		"%d run(s) of %.0f s, each after a %.0f s warm-up on the same connections; the table shows the median of the runs. "+
		"Connections: GET %d, LIST %d, PUT %d (at %.0f/s), new connections %d at a time; one request in flight per connection. "+
		"The baseline answers a constant body of %d bytes, the size of replicasd's GET answer. "+
		"The cluster holds %s Deployments (LIST also at %s).\n",
		s.Runs, s.DurationSeconds, s.WarmupSeconds, s.GetConns, s.ListConns, s.PutConns, s.PutRate, s.HandshakeConns,
		s.BodyBytes, count(s.PrimarySize), sizesList(s.Sizes))
	if s.Notes != "" {
		w("- **Notes:** %s\n", s.Notes)
	}
	if chart != "" {
		w("\n![throughput and p99, side by side](%s)\n", chart)
	}

	w("\n| row | proto | replicasd | kube-apiserver | baseline | replicasd ÷ kube-apiserver | replicasd ÷ baseline |\n")
	w("|---|---|---|---|---|---|---|\n")
	size := s.PrimarySize
	for _, proto := range []string{H2, H1} {
		httpRow(&b, r, RowGetMax, size, proto, fmt.Sprintf("GET one, max rate (%d conns)", s.GetConns))
	}
	for _, proto := range []string{H2, H1} {
		rate := 0.0
		if m := r.Find(RowGetFixed, size, Replicasd, proto); m != nil {
			rate = m.Rate
		}
		httpRow(&b, r, RowGetFixed, size, proto, fmt.Sprintf("GET one at %s/s (½ kube-apiserver's max): p50 / p99", thousands(rate)))
	}
	for _, n := range s.Sizes {
		for _, proto := range []string{H2, H1} {
			httpRow(&b, r, RowList, n, proto, fmt.Sprintf("LIST %s Deployments, max rate (%d conns)", count(n), s.ListConns))
		}
	}
	for _, proto := range []string{H2, H1} {
		httpRow(&b, r, RowPut, size, proto, fmt.Sprintf("PUT scale at %.0f/s: p50 / p99", s.PutRate))
	}
	for _, proto := range []string{H2, H1} {
		httpRow(&b, r, RowHandshake, size, proto, fmt.Sprintf("new connections/s, keep-alive off (%d at a time)", s.HandshakeConns))
	}
	w("\nCells: rate · latency · server CPU per request (kube-apiserver's includes etcd). ")
	w("Load-generator CPU (cores, median): %s.\n", clientCPU(r))

	w("\n| row | replicasd |\n|---|---|\n")
	if c := r.KubeAPICalls; c != nil {
		if !c.Available {
			w("| Kubernetes API requests during the GET load | not measured: replicasd has no `replicasd_kube_api_requests_total` metric |\n")
		} else {
			expected := c.Idle / c.IdleSeconds * c.LoadSeconds
			w("| Kubernetes API requests during the GET load | **%.0f** (%s) while serving %s API requests over %.0f s; the background alone (%.0f in an idle %.0f s: the health probe every 2 s, watch renewals) accounts for %.0f of them, so %.0f beyond it: **%.5f per request** |\n",
				c.DuringLoad, labels(c.ByLabel), thousands(c.GETs), c.LoadSeconds, c.Idle, c.IdleSeconds, expected, max(0, c.DuringLoad-expected), c.PerGET)
		}
	}
	if p := r.Propagation; p != nil {
		w("| propagation of %d client-go scales to replicasd's GET: p50 / p99 | **%.1f / %.1f ms** from kube-apiserver's answer; %.1f / %.1f ms from the request (max %.1f ms) |\n",
			p.Changes, p.FromResponse.P50Ms, p.FromResponse.P99Ms, p.FromRequest.P50Ms, p.FromRequest.P99Ms, p.MaxMs)
	}
	for _, st := range r.StartToReady {
		w("| start to ready, %s Deployments | **%.2f s** (median of %s) |\n", count(st.Deployments), st.Median, secondsList(st.Seconds))
	}
	if len(r.Heap) > 0 {
		w("\nCache heap per Deployment (live heap after GC with the cache synced, minus before; one process per measurement):\n\n")
		w("| Deployments | objects from | transform on | transform off | saved |\n|---|---|---|---|---|\n")
		type key struct {
			n      int
			source string
		}
		var keys []key
		on, off := map[key]float64{}, map[key]float64{}
		for _, h := range r.Heap {
			k := key{h.Deployments, h.Source}
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
			if h.Transform {
				on[k] = h.BytesPerDeployment
			} else {
				off[k] = h.BytesPerDeployment
			}
		}
		slices.SortFunc(keys, func(a, b key) int {
			if a.source != b.source {
				return strings.Compare(a.source, b.source)
			}
			return a.n - b.n
		})
		for _, k := range keys {
			src := "in-process fake API server (JSON)"
			if k.source == "kwok" {
				src = "kube-apiserver (kwok cluster)"
			}
			saved := ""
			if off[k] > 0 {
				saved = fmt.Sprintf("%.0f%%", (1-on[k]/off[k])*100)
			}
			w("| %s | %s | **%s** | %s | %s |\n", thousands(float64(k.n)), src, bytes(on[k]), bytes(off[k]), saved)
		}
	}
	if len(r.Targets) > 0 {
		w("\nTargets (ratios within this run):\n\n| target | goal | measured | met |\n|---|---|---|---|\n")
		for _, t := range r.Targets {
			met := "no"
			if t.Met {
				met = "yes"
			}
			w("| %s | %s | %s | %s |\n", t.Name, t.Goal, t.Measured, met)
		}
	}
	return b.String()
}

// httpRow writes one table row: the three sides of row at size over proto.
func httpRow(b *strings.Builder, r *Results, row string, size int, proto, label string) {
	ms := map[string]*Measurement{}
	for _, side := range sideOrder {
		if m := r.Find(row, size, side, proto); m != nil {
			ms[side] = m
		}
	}
	if len(ms) == 0 {
		return
	}
	cells := []string{label, proto}
	for _, side := range sideOrder {
		cells = append(cells, cell(row, ms[side]))
	}
	rsd, api, base := ms[Replicasd], ms[APIServer], ms[Baseline]
	cells = append(cells, ratio(row, rsd, api, "×"), ratio(row, rsd, base, "%"))
	fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
}

func cell(row string, m *Measurement) string {
	if m == nil {
		return "–"
	}
	s := m.Median
	var out string
	switch row {
	case RowGetFixed, RowPut:
		out = fmt.Sprintf("**%s / %s ms**", msStr(s.P50), msStr(s.P99))
		if q := m.ReadYourWritesMedian; q != nil && q.Count > 0 {
			out += fmt.Sprintf(" (of which read-your-writes wait %s / %s ms)", msStr(q.P50Ms), msStr(q.P99Ms))
		}
	case RowHandshake:
		out = fmt.Sprintf("**%s/s**", rate(s.ReqPerSec))
	default:
		out = fmt.Sprintf("**%s/s** · p99 %s ms", rate(s.ReqPerSec), msStr(s.P99))
	}
	if cpu := cpuPerRequest(m); cpu > 0 {
		out += " · " + cpuStr(cpu)
	}
	if s.Success < 0.999 {
		out += fmt.Sprintf(" · %.1f%% ok %v", s.Success*100, s.StatusCodes)
	}
	return out
}

// cpuPerRequest sums the server processes' CPU per request, in µs.
func cpuPerRequest(m *Measurement) float64 {
	total := 0.0
	for _, v := range m.Median.CPUPerRequest {
		total += v
	}
	return total
}

// rate formats requests per second: with a decimal below 10.
func rate(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return thousands(v)
}

func cpuStr(us float64) string {
	if us >= 1000 {
		return fmt.Sprintf("%.1f ms CPU", us/1000)
	}
	return fmt.Sprintf("%.0f µs CPU", us)
}

func msStr(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// ratio compares replicasd with another side: throughput as a factor (×)
// or a percentage (%), latency rows as p99 "1/N".
func ratio(row string, rsd, other *Measurement, unit string) string {
	if rsd == nil || other == nil {
		return "–"
	}
	switch row {
	case RowGetFixed, RowPut:
		if rsd.Median.P99 == 0 {
			return "–"
		}
		f := other.Median.P99 / rsd.Median.P99
		if f >= 1 {
			return fmt.Sprintf("p99 1/%.1f", f)
		}
		return fmt.Sprintf("p99 %.1f×", 1/f)
	}
	if other.Median.ReqPerSec == 0 {
		return "–"
	}
	f := rsd.Median.ReqPerSec / other.Median.ReqPerSec
	out := fmt.Sprintf("%.1f×", f)
	if unit == "%" {
		out = fmt.Sprintf("%.0f%%", f*100)
	}
	// The rate is bounded by the load generator sharing the cores; the
	// CPU each request cost the server is not.
	if mine, theirs := cpuPerRequest(rsd), cpuPerRequest(other); mine > 0 && theirs > 0 {
		switch c := mine / theirs; {
		case c >= 1:
			out += fmt.Sprintf(" (CPU/request ×%.2f)", c)
		case c > 0.1:
			out += fmt.Sprintf(" (CPU/request 1/%.1f)", 1/c)
		default:
			out += fmt.Sprintf(" (CPU/request 1/%.0f)", 1/c)
		}
	}
	return out
}

func clientCPU(r *Results) string {
	var parts []string
	for _, row := range []string{RowGetMax, RowList, RowHandshake} {
		var v []float64
		for _, m := range r.HTTP {
			if m.Row == row {
				v = append(v, m.Median.CPU["client"])
			}
		}
		if len(v) > 0 {
			slices.Sort(v)
			parts = append(parts, fmt.Sprintf("%s %.2f–%.2f", row, v[0], v[len(v)-1]))
		}
	}
	return strings.Join(parts, "; ")
}

// labels formats a counter's increase by series: "code=200,verb=GET 12".
func labels(by map[string]float64) string {
	var keys []string
	for k := range by {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %.0f", k, by[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

func versions(v map[string]string) string {
	var keys []string
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %s", k, v[k]))
	}
	return strings.Join(parts, ", ")
}

func sizesList(sizes []int) string {
	var parts []string
	for _, n := range sizes {
		parts = append(parts, count(n))
	}
	return strings.Join(parts, ", ")
}

func secondsList(v []float64) string {
	var parts []string
	for _, s := range v {
		parts = append(parts, fmt.Sprintf("%.2f", s))
	}
	return strings.Join(parts, ", ") + " s"
}

// UpdateSection replaces the text between SectionBegin and SectionEnd in
// the file at path with md, or appends the section when the markers are
// missing.
func UpdateSection(path, md string) error {
	raw, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(raw)
	section := SectionBegin + "\n\n" + md + "\n" + SectionEnd
	i, j := strings.Index(doc, SectionBegin), strings.Index(doc, SectionEnd)
	if i >= 0 && j > i {
		doc = doc[:i] + section + doc[j+len(SectionEnd):]
	} else {
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		doc += "\n" + section + "\n"
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}
