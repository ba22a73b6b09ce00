package metrics

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	clientmetrics "k8s.io/client-go/tools/metrics"
)

// client-go reports its REST calls to package-level hooks that can be set
// once per process (clientmetrics.Register). replicasd sets them once to
// kubeAPI, which passes each call on to every Metrics observing the call's
// host. One process normally holds one server; tests hold several, each
// talking to its own fake API server, and the host keeps their counts apart.
var (
	kubeAPI          = &kubeFanout{}
	kubeRegisterOnce sync.Once
	kubeRegistered   bool
)

// kubeFanout implements client-go's LatencyMetric and ResultMetric.
type kubeFanout struct {
	mu    sync.RWMutex
	sinks []*kubeSink
}

// kubeSink is one Metrics' share of the client-go hooks.
type kubeSink struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	host     string // "" = every host
}

func (k *kubeFanout) Observe(_ context.Context, verb string, u url.URL, latency time.Duration) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, s := range k.sinks {
		if s.host == "" || s.host == u.Host {
			s.duration.WithLabelValues(verb).Observe(latency.Seconds())
		}
	}
}

func (k *kubeFanout) Increment(_ context.Context, code, method, host string) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, s := range k.sinks {
		if s.host == "" || s.host == host {
			s.requests.WithLabelValues(method, code).Inc()
		}
	}
}

// ObserveKubeAPI starts counting the requests client-go makes to the API
// server of cfg (every API server when cfg is nil) in
// replicasd_kube_api_requests_total and
// replicasd_kube_api_request_duration_seconds, until stop is called. It
// fails when something else in the process took client-go's metric hooks
// first.
func (m *Metrics) ObserveKubeAPI(cfg *rest.Config) (stop func(), err error) {
	kubeRegisterOnce.Do(func() {
		clientmetrics.Register(clientmetrics.RegisterOpts{RequestLatency: kubeAPI, RequestResult: kubeAPI})
		kubeRegistered = clientmetrics.RequestResult == clientmetrics.ResultMetric(kubeAPI)
	})
	if !kubeRegistered {
		return nil, errors.New("metrics: client-go's metric hooks were registered by another component; Kubernetes API calls are not counted")
	}
	sink := &kubeSink{requests: m.kubeRequests, duration: m.kubeDuration}
	if cfg != nil {
		u, _, err := rest.DefaultServerUrlFor(cfg)
		if err != nil {
			return nil, err
		}
		sink.host = u.Host
	}
	kubeAPI.mu.Lock()
	kubeAPI.sinks = append(kubeAPI.sinks, sink)
	kubeAPI.mu.Unlock()
	return func() {
		kubeAPI.mu.Lock()
		defer kubeAPI.mu.Unlock()
		kubeAPI.sinks = slices.DeleteFunc(kubeAPI.sinks, func(s *kubeSink) bool { return s == sink })
	}, nil
}
