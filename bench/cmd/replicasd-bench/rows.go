package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"sync"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/replicasd/replicasd/bench/internal/kube"
	"github.com/replicasd/replicasd/bench/internal/load"
	"github.com/replicasd/replicasd/bench/internal/promscrape"
	"github.com/replicasd/replicasd/bench/internal/report"
)

// side is one column of the table: where to send requests and which
// processes serve them.
type side struct {
	name string
	base string
	tls  *tls.Config
	pids map[string]int
	// get and list are the paths of the GET-one and LIST rows.
	get, list string
}

var protocols = []string{report.H2, report.H1}

var acceptJSON = http.Header{"Accept": {"application/json"}}

func getPath() string {
	return "/api/v1/namespaces/" + kube.Namespace + "/deployments/" + getTarget + "/replicas"
}

func (b *bench) rsdURL(path string) string { return "https://" + b.rsdAddr + path }

func (b *bench) replicasdSide() side {
	return side{name: report.Replicasd, base: "https://" + b.rsdAddr, tls: b.rsdTLS,
		pids: map[string]int{report.Replicasd: b.replicasd.PID()},
		get:  getPath(), list: "/api/v1/deployments"}
}

func (b *bench) apiserverSide() side {
	return side{name: report.APIServer, base: b.apiserverURL, tls: b.apiTLS,
		pids: map[string]int{report.APIServer: b.apiserverPID, "etcd": b.etcdPID},
		get:  "/apis/apps/v1/namespaces/" + kube.Namespace + "/deployments/" + getTarget + "/scale",
		list: "/apis/apps/v1/deployments"}
}

func (b *bench) baselineSide() side {
	return side{name: report.Baseline, base: "https://" + b.baseAddr, tls: b.rsdTLS,
		pids: map[string]int{report.Baseline: b.baseline.PID()},
		get:  getPath()}
}

// httpCase is one side and protocol of a row.
type httpCase struct {
	row       string
	size      int
	side      side
	proto     string
	rate      float64
	conns     int
	keepAlive bool
	targeter  vegeta.Targeter
	// ryw records replicasd's read-your-writes histogram around each run.
	ryw bool
}

func staticTargeter(method, url string) vegeta.Targeter {
	return vegeta.NewStaticTargeter(vegeta.Target{Method: method, URL: url, Header: acceptJSON})
}

// runCases runs every case cfg.runs times, interleaved (run 1 of every
// case, then run 2, ...) so that a change in the machine's background load
// spreads over every side, and records the medians.
func (b *bench) runCases(ctx context.Context, cases []httpCase) ([]report.Measurement, error) {
	out := make([]report.Measurement, len(cases))
	for i, c := range cases {
		out[i] = report.Measurement{Row: c.row, Size: c.size, Side: c.side.name, Proto: c.proto, Rate: c.rate}
	}
	for run := range b.cfg.runs {
		for i, c := range cases {
			name := fmt.Sprintf("%s/%d/%s/%s/run%d", c.row, c.size, c.side.name, c.proto, run+1)
			var before promscrape.Snapshot
			if c.ryw {
				var err error
				if before, err = promscrape.Scrape(ctx, "http://"+b.opsAddr+"/metrics"); err != nil {
					return nil, err
				}
			}
			s, err := load.Run(ctx, load.Spec{
				Name:     name,
				Targeter: c.targeter,
				Pool:     load.PoolConfig{TLS: c.side.tls, HTTP2: c.proto == report.H2, KeepAlive: c.keepAlive, Conns: c.conns},
				Rate:     c.rate,
				Warmup:   b.cfg.warmup,
				Duration: b.cfg.duration,
				Servers:  c.side.pids,
			})
			if err != nil {
				return nil, err
			}
			if s.Success < 0.99 {
				b.log.Warn("requests failed", "case", name, "success", s.Success, "codes", s.StatusCodes, "errors", s.Errors)
			}
			if want := map[string]string{report.H2: "h2", report.H1: "http/1.1"}[c.proto]; s.Protocol != want {
				return nil, fmt.Errorf("%s: responses came over %q, want %q", name, s.Protocol, want)
			}
			b.log.Info("measured", "case", name, "reqPerSec", int(s.ReqPerSec), "p50ms", round(s.P50), "p99ms", round(s.P99),
				"cpu", s.CPU)
			out[i].Runs = append(out[i].Runs, s)
			if c.ryw {
				after, err := promscrape.Scrape(ctx, "http://"+b.opsAddr+"/metrics")
				if err != nil {
					return nil, err
				}
				out[i].ReadYourWrites = append(out[i].ReadYourWrites, rywQuantiles(before, after))
			}
		}
	}
	for i := range out {
		out[i].Median = load.Median(out[i].Runs)
		if len(out[i].ReadYourWrites) > 0 {
			q := medianQuantiles(out[i].ReadYourWrites)
			out[i].ReadYourWritesMedian = &q
		}
	}
	b.res.HTTP = append(b.res.HTTP, out...)
	return out, nil
}

// check sends one request and wants 200.
func check(ctx context.Context, s side, method, path string) ([]byte, error) {
	client := load.NewPool(load.PoolConfig{TLS: s.tls, HTTP2: true, KeepAlive: true, Conns: 1}).Client(0)
	status, _, body, err := load.Do(ctx, client, method, s.base+path, acceptJSON, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", s.name, method, path, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s %s %s: status %d: %.300s", s.name, method, path, status, body)
	}
	return body, nil
}

// listRows measures LIST of every Deployment with size in the cluster,
// after checking both sides list the same number.
func (b *bench) listRows(ctx context.Context, size int) error {
	sides := []side{b.replicasdSide(), b.apiserverSide()}
	body, err := check(ctx, sides[0], http.MethodGet, sides[0].list)
	if err != nil {
		return err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return fmt.Errorf("replicasd list: %w", err)
	}
	rsdBytes := len(body)
	body, err = check(ctx, sides[1], http.MethodGet, sides[1].list)
	if err != nil {
		return err
	}
	var list struct{ Items []json.RawMessage }
	if err := json.Unmarshal(body, &list); err != nil {
		return fmt.Errorf("kube-apiserver list: %w", err)
	}
	if len(items) != len(list.Items) || len(items) < size {
		return fmt.Errorf("replicasd lists %d deployments and kube-apiserver %d; want both at least %d", len(items), len(list.Items), size)
	}
	b.log.Info("list row", "deployments", len(items), "replicasdBytes", rsdBytes, "apiserverBytes", len(body))
	var cases []httpCase
	for _, proto := range protocols {
		for _, s := range sides {
			cases = append(cases, httpCase{row: report.RowList, size: size, side: s, proto: proto,
				conns: b.cfg.listConns, keepAlive: true, targeter: staticTargeter(http.MethodGet, s.base+s.list)})
		}
	}
	_, err = b.runCases(ctx, cases)
	return err
}

// getRows measures GET one: the maximum rate, then latency at half of
// kube-apiserver's maximum, and counts replicasd's Kubernetes API calls
// meanwhile.
func (b *bench) getRows(ctx context.Context, size int) error {
	sides := []side{b.replicasdSide(), b.apiserverSide(), b.baselineSide()}
	for _, s := range sides {
		if _, err := check(ctx, s, http.MethodGet, s.get); err != nil {
			return err
		}
	}
	calls, err := b.startCountingKubeAPICalls(ctx)
	if err != nil {
		return err
	}
	var cases []httpCase
	for _, proto := range protocols {
		for _, s := range sides {
			cases = append(cases, httpCase{row: report.RowGetMax, size: size, side: s, proto: proto,
				conns: b.cfg.getConns, keepAlive: true, targeter: staticTargeter(http.MethodGet, s.base+s.get)})
		}
	}
	maxes, err := b.runCases(ctx, cases)
	if err != nil {
		return err
	}
	cases = nil
	for _, proto := range protocols {
		var apiMax float64
		for _, m := range maxes {
			if m.Side == report.APIServer && m.Proto == proto {
				apiMax = m.Median.ReqPerSec
			}
		}
		rate := math.Floor(apiMax / 2)
		if rate < 1 {
			return fmt.Errorf("kube-apiserver's maximum GET rate over %s is %.1f/s: nothing to take half of", proto, apiMax)
		}
		for _, s := range sides {
			cases = append(cases, httpCase{row: report.RowGetFixed, size: size, side: s, proto: proto, rate: rate,
				conns: b.cfg.getConns, keepAlive: true, targeter: staticTargeter(http.MethodGet, s.base+s.get)})
		}
	}
	if _, err := b.runCases(ctx, cases); err != nil {
		return err
	}
	return calls(ctx)
}

// handshakeRows measures new connections per second: keep-alive off, so
// every request is a new TCP connection and a full TLS handshake with a
// client certificate (no session resumption).
func (b *bench) handshakeRows(ctx context.Context, size int) error {
	var cases []httpCase
	for _, proto := range protocols {
		for _, s := range []side{b.replicasdSide(), b.apiserverSide(), b.baselineSide()} {
			cases = append(cases, httpCase{row: report.RowHandshake, size: size, side: s, proto: proto,
				conns: b.cfg.handshakeConns, keepAlive: false, targeter: staticTargeter(http.MethodGet, s.base+s.get)})
		}
	}
	_, err := b.runCases(ctx, cases)
	return err
}

// putDeployments are the Deployments the PUT row scales, paused ones.
func putDeployments() []string {
	var names []string
	for i := range 20 {
		names = append(names, kube.Name(kube.LiveDeployments+10+i))
	}
	return names
}

// putRows measures PUT of a replica count at a fixed rate, each PUT
// changing the count (0 and 1 in turn), with replicasd's read-your-writes
// wait from its histogram.
func (b *bench) putRows(ctx context.Context, size int) error {
	names := putDeployments()
	for _, name := range names {
		if err := b.scale(ctx, name, 0); err != nil {
			return err
		}
	}
	t := &toggler{names: names, state: map[string]int32{}}
	rsd, api := b.replicasdSide(), b.apiserverSide()
	rsdTargeter := func(tgt *vegeta.Target) error {
		name, v := t.take()
		tgt.Method = http.MethodPut
		tgt.URL = rsd.base + "/api/v1/namespaces/" + kube.Namespace + "/deployments/" + name + "/replicas"
		tgt.Body = fmt.Appendf(nil, `{"replicaCount":%d}`, v)
		tgt.Header = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
		return nil
	}
	apiTargeter := func(tgt *vegeta.Target) error {
		name, v := t.take()
		tgt.Method = http.MethodPut
		tgt.URL = api.base + "/apis/apps/v1/namespaces/" + kube.Namespace + "/deployments/" + name + "/scale"
		tgt.Body = fmt.Appendf(nil, `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":%q,"namespace":%q},"spec":{"replicas":%d}}`,
			name, kube.Namespace, v)
		tgt.Header = http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
		return nil
	}
	var cases []httpCase
	for _, proto := range protocols {
		cases = append(cases,
			httpCase{row: report.RowPut, size: size, side: rsd, proto: proto, rate: b.cfg.putRate,
				conns: b.cfg.putConns, keepAlive: true, targeter: rsdTargeter, ryw: true},
			httpCase{row: report.RowPut, size: size, side: api, proto: proto, rate: b.cfg.putRate,
				conns: b.cfg.putConns, keepAlive: true, targeter: apiTargeter})
	}
	_, err := b.runCases(ctx, cases)
	return err
}

// scale sets a Deployment's replicas with client-go, unconditionally.
func (b *bench) scale(ctx context.Context, name string, replicas int32) error {
	_, err := b.kube.AppsV1().Deployments(kube.Namespace).UpdateScale(ctx, name, &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: kube.Namespace},
		Spec:       autoscalingv1.ScaleSpec{Replicas: replicas},
	}, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("scaling %s to %d: %w", name, replicas, err)
	}
	return nil
}

// toggler hands out PUT targets round robin, each time the other of 0 and
// 1, so that every PUT changes the count.
type toggler struct {
	mu    sync.Mutex
	names []string
	next  int
	state map[string]int32
}

func (t *toggler) take() (string, int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	name := t.names[t.next%len(t.names)]
	t.next++
	v := 1 - t.state[name]
	t.state[name] = v
	return name, v
}

// rywQuantiles reads replicasd's read-your-writes histogram between two
// scrapes.
func rywQuantiles(before, after promscrape.Snapshot) report.Quantiles {
	const name = "replicasd_scale_read_your_writes_wait_seconds"
	if !after.Has(name) {
		return report.Quantiles{Source: "metric " + name + " not found"}
	}
	h := after.HistogramOf(name).Sub(before.HistogramOf(name))
	q := report.Quantiles{Count: h.Count, Source: name + " (bucket interpolation)"}
	if h.Count > 0 {
		q.MeanMs = h.Sum / h.Count * 1000
		q.P50Ms = h.Quantile(0.5) * 1000
		q.P99Ms = h.Quantile(0.99) * 1000
	}
	return q
}

func medianQuantiles(qs []report.Quantiles) report.Quantiles {
	pick := func(f func(report.Quantiles) float64) float64 {
		v := make([]float64, len(qs))
		for i, q := range qs {
			v[i] = f(q)
		}
		return medianOf(v)
	}
	return report.Quantiles{
		Count:  pick(func(q report.Quantiles) float64 { return q.Count }),
		MeanMs: pick(func(q report.Quantiles) float64 { return q.MeanMs }),
		P50Ms:  pick(func(q report.Quantiles) float64 { return q.P50Ms }),
		P99Ms:  pick(func(q report.Quantiles) float64 { return q.P99Ms }),
		Source: qs[0].Source,
	}
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

func round(v float64) float64 { return math.Round(v*100) / 100 }
