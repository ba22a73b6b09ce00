package report

import (
	"fmt"
	"math"
	"strings"
)

// Evaluate checks the targets against r, ratios taken within the
// run. A target whose rows were not measured is left out.
func Evaluate(r *Results) []Target {
	var out []Target
	size := r.Settings.PrimarySize
	for _, proto := range []string{H2, H1} {
		rsd, api, base := r.Find(RowGetMax, size, Replicasd, proto), r.Find(RowGetMax, size, APIServer, proto), r.Find(RowGetMax, size, Baseline, proto)
		if rsd != nil && api != nil && api.Median.ReqPerSec > 0 {
			ratio := rsd.Median.ReqPerSec / api.Median.ReqPerSec
			out = append(out, Target{Name: "GET one throughput vs kube-apiserver (" + proto + ")", Goal: "≥ 7×",
				Measured: fmt.Sprintf("%.1f×", ratio), Met: ratio >= 7})
		}
		if rsd != nil && base != nil && base.Median.ReqPerSec > 0 {
			ratio := rsd.Median.ReqPerSec / base.Median.ReqPerSec
			out = append(out, Target{Name: "GET one throughput vs baseline (" + proto + ")", Goal: "≥ 90%",
				Measured: fmt.Sprintf("%.0f%%", ratio*100), Met: ratio >= 0.9})
		}
		rsdF, apiF := r.Find(RowGetFixed, size, Replicasd, proto), r.Find(RowGetFixed, size, APIServer, proto)
		if rsdF != nil && apiF != nil && rsdF.Median.P99 > 0 {
			ratio := rsdF.Median.P99 / apiF.Median.P99
			out = append(out, Target{Name: "GET one p99 vs kube-apiserver's, at its half rate (" + proto + ")", Goal: "≤ 1/5",
				Measured: fmt.Sprintf("1/%.1f (%.2f vs %.2f ms)", 1/ratio, rsdF.Median.P99, apiF.Median.P99), Met: ratio <= 0.2})
		}
	}
	listSize := 0
	for _, s := range r.Settings.Sizes {
		listSize = max(listSize, s)
	}
	for _, proto := range []string{H2, H1} {
		rsd, api := r.Find(RowList, listSize, Replicasd, proto), r.Find(RowList, listSize, APIServer, proto)
		if rsd != nil && api != nil && api.Median.ReqPerSec > 0 {
			ratio := rsd.Median.ReqPerSec / api.Median.ReqPerSec
			out = append(out, Target{Name: fmt.Sprintf("LIST of %s vs kube-apiserver (%s)", count(listSize), proto), Goal: "≥ 5× (at 10k)",
				Measured: fmt.Sprintf("%.1f×", ratio), Met: ratio >= 5 && listSize >= 10000})
		}
	}
	for _, proto := range []string{H2, H1} {
		rsd, base := r.Find(RowHandshake, size, Replicasd, proto), r.Find(RowHandshake, size, Baseline, proto)
		if rsd == nil {
			continue
		}
		out = append(out, Target{Name: "full mTLS handshakes, ECDSA P-256 (" + proto + ")", Goal: "≥ 2,000/s",
			Measured: fmt.Sprintf("%.0f/s", rsd.Median.ReqPerSec), Met: rsd.Median.ReqPerSec >= 2000})
		if base != nil && base.Median.ReqPerSec > 0 {
			ratio := rsd.Median.ReqPerSec / base.Median.ReqPerSec
			out = append(out, Target{Name: "full mTLS handshakes vs baseline (" + proto + ")", Goal: "no slower (≥ 95%: run-to-run noise)",
				Measured: fmt.Sprintf("%.0f%%", ratio*100), Met: ratio >= 0.95})
		}
	}
	for _, h := range r.Heap {
		if h.Transform && h.Deployments >= 9000 && h.Deployments <= 11000 {
			out = append(out, Target{Name: fmt.Sprintf("cache heap per Deployment at %s (%s objects)", count(h.Deployments), h.Source),
				Goal: "≤ 1.5 KiB", Measured: bytes(h.BytesPerDeployment), Met: h.BytesPerDeployment <= 1536})
		}
	}
	if p := r.Propagation; p != nil {
		// Propagation starts when kube-apiserver has the write: the time
		// the write itself took is kube-apiserver's, and shown beside.
		out = append(out, Target{Name: "propagation p99 (client-go scale answered → replicasd GET shows it)", Goal: "≤ 50 ms",
			Measured: fmt.Sprintf("%.1f ms (%.1f ms counting the write itself)", p.FromResponse.P99Ms, p.FromRequest.P99Ms),
			Met:      p.FromResponse.P99Ms <= 50})
	}
	for _, s := range r.StartToReady {
		if s.Deployments >= 10000 {
			out = append(out, Target{Name: fmt.Sprintf("start to ready with %s Deployments", count(s.Deployments)), Goal: "≤ 3 s",
				Measured: fmt.Sprintf("%.2f s (median of %d)", s.Median, len(s.Seconds)), Met: s.Median <= 3})
		}
	}
	if c := r.KubeAPICalls; c != nil {
		if !c.Available {
			out = append(out, Target{Name: "Kubernetes API calls per GET", Goal: "0", Measured: "not measurable: no replicasd_kube_api_requests_total"})
		} else {
			// The background (probes, watch renewals) is not periodic to the
			// call, so a handful of calls either way is noise; one call per
			// thousand GETs would not be.
			out = append(out, Target{Name: "Kubernetes API calls per GET", Goal: "0",
				Measured: fmt.Sprintf("%.5f (%.0f calls during %s requests, %.0f expected from the idle rate)",
					c.PerGET, c.DuringLoad, thousands(c.GETs), c.Idle/c.IdleSeconds*c.LoadSeconds),
				Met: c.PerGET < 0.001})
		}
	}
	return out
}

// count formats a Deployment count: 1k, 10k, 1,500.
func count(n int) string {
	if n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return thousands(float64(n))
}

// bytes formats a byte count.
func bytes(b float64) string {
	if b >= 1024 {
		return fmt.Sprintf("%.2f KiB", b/1024)
	}
	return fmt.Sprintf("%.0f B", b)
}

// thousands formats v rounded, with thousands separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", math.Round(v))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
