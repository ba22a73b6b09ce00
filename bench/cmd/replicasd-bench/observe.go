package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/replicasd/replicasd/bench/internal/kube"
	"github.com/replicasd/replicasd/bench/internal/load"
	"github.com/replicasd/replicasd/bench/internal/promscrape"
	"github.com/replicasd/replicasd/bench/internal/report"
)

// Metric names read from replicasd.
const (
	metricKubeAPIRequests = "replicasd_kube_api_requests_total"
	metricHTTPRequests    = "replicasd_http_requests_total"
)

// startCountingKubeAPICalls measures replicasd's background Kubernetes API
// calls over an idle window, then takes the snapshot the GET load is
// compared to; the returned function records the result after the load.
func (b *bench) startCountingKubeAPICalls(ctx context.Context) (func(context.Context) error, error) {
	metrics := "http://" + b.opsAddr + "/metrics"
	idleStart, err := promscrape.Scrape(ctx, metrics)
	if err != nil {
		return nil, err
	}
	if !idleStart.Has(metricKubeAPIRequests) {
		b.log.Warn("replicasd has no " + metricKubeAPIRequests + " metric: its Kubernetes API calls cannot be counted")
		b.res.KubeAPICalls = &report.KubeAPICalls{Available: false}
		return func(context.Context) error { return nil }, nil
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(b.cfg.idle):
	}
	loadStart, err := promscrape.Scrape(ctx, metrics)
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	_, idle := promscrape.CounterIncrease(idleStart, loadStart, metricKubeAPIRequests)
	return func(ctx context.Context) error {
		loadEnd, err := promscrape.Scrape(ctx, metrics)
		if err != nil {
			return err
		}
		window := time.Since(t1).Seconds()
		byLabel, during := promscrape.CounterIncrease(loadStart, loadEnd, metricKubeAPIRequests)
		_, requests := promscrape.CounterIncrease(loadStart, loadEnd, metricHTTPRequests)
		c := &report.KubeAPICalls{
			Available: true, DuringLoad: during, LoadSeconds: window, GETs: requests,
			Idle: idle, IdleSeconds: t1.Sub(t0).Seconds(), ByLabel: byLabel,
		}
		if requests > 0 {
			expected := idle / c.IdleSeconds * window
			c.PerGET = math.Max(0, during-expected) / requests
		}
		b.res.KubeAPICalls = c
		b.log.Info("Kubernetes API calls during the GET load", "calls", during, "gets", requests,
			"idleCalls", idle, "idleSeconds", c.IdleSeconds, "perGET", c.PerGET)
		return nil
	}, nil
}

// propagationDeployments are the Deployments the propagation row scales.
func propagationDeployments() []string {
	var names []string
	for i := range 10 {
		names = append(names, kube.Name(kube.LiveDeployments+40+i))
	}
	return names
}

// propagation scales Deployments with client-go, one change at a time,
// and times how long replicasd's GET takes to show each.
func (b *bench) propagation(ctx context.Context) error {
	names := propagationDeployments()
	for _, name := range names {
		if err := b.scale(ctx, name, 0); err != nil {
			return err
		}
	}
	client := load.NewPool(load.PoolConfig{TLS: b.rsdTLS, HTTP2: true, KeepAlive: true, Conns: 1}).Client(10 * time.Second)
	for _, name := range names {
		if err := b.waitReplicas(ctx, client, name, 0, time.Now().Add(30*time.Second)); err != nil {
			return err
		}
	}
	var fromReq, fromResp []float64
	for i := range b.cfg.changes {
		name := names[i%len(names)]
		want := int32(1 - (i/len(names))%2)
		sent := time.Now()
		if err := b.scale(ctx, name, want); err != nil {
			return err
		}
		answered := time.Now()
		if err := b.waitReplicas(ctx, client, name, want, answered.Add(10*time.Second)); err != nil {
			return err
		}
		seen := time.Now()
		fromReq = append(fromReq, ms(seen.Sub(sent)))
		fromResp = append(fromResp, ms(seen.Sub(answered)))
	}
	p := &report.Propagation{
		Changes:      len(fromResp),
		FromResponse: quantiles(fromResp, "client-go UpdateScale answered → replicasd GET shows it"),
		FromRequest:  quantiles(fromReq, "client-go UpdateScale sent → replicasd GET shows it"),
	}
	for _, v := range fromReq {
		p.MaxMs = math.Max(p.MaxMs, v)
	}
	b.res.Propagation = p
	b.log.Info("propagation", "changes", p.Changes, "p50ms", round(p.FromResponse.P50Ms), "p99ms", round(p.FromResponse.P99Ms),
		"p99msFromRequest", round(p.FromRequest.P99Ms))
	return nil
}

// waitReplicas polls replicasd's GET (1ms apart) until it shows want.
func (b *bench) waitReplicas(ctx context.Context, client *http.Client, name string, want int32, deadline time.Time) error {
	url := b.rsdURL("/api/v1/namespaces/" + kube.Namespace + "/deployments/" + name + "/replicas")
	for {
		status, _, body, err := load.Do(ctx, client, http.MethodGet, url, acceptJSON, nil)
		if err != nil {
			return err
		}
		var got struct {
			ReplicaCount int32 `json:"replicaCount"`
		}
		if status == http.StatusOK && json.Unmarshal(body, &got) == nil && got.ReplicaCount == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replicasd still shows %s with %d replicas (status %d), want %d", name, got.ReplicaCount, status, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// quantiles computes exact quantiles (nearest rank) of values in ms.
func quantiles(values []float64, source string) report.Quantiles {
	q := report.Quantiles{Count: float64(len(values)), Source: source}
	if len(values) == 0 {
		return q
	}
	sorted := append([]float64(nil), values...)
	sort.Float64s(sorted)
	sum := 0.0
	for _, v := range sorted {
		sum += v
	}
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(sorted)))) - 1
		return sorted[max(0, min(i, len(sorted)-1))]
	}
	q.MeanMs, q.P50Ms, q.P99Ms = sum/float64(len(sorted)), rank(0.5), rank(0.99)
	return q
}
