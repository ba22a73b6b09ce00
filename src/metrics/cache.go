package metrics

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/replicasd/replicasd/src/deployments"
)

// Informer event types, the values of informer_events_total's type label.
const (
	EventAdd    = "add"
	EventUpdate = "update"
	EventDelete = "delete"
)

// Observer returns the hooks that keep the cache metrics: pass it as
// deployments.CacheConfig.Observer. cache_deployments follows the adds and
// deletes, so it always matches what the cache holds.
func (m *Metrics) Observer() deployments.Observer {
	return deployments.Observer{
		OnAdd: func(d *deployments.Deployment, _ bool) {
			m.cacheDeployments.WithLabelValues(d.Namespace).Inc()
			m.informerEvent(EventAdd)
		},
		OnUpdate: func(_, _ *deployments.Deployment) {
			m.informerEvent(EventUpdate)
		},
		OnDelete: func(d *deployments.Deployment) {
			m.cacheDeployments.WithLabelValues(d.Namespace).Dec()
			m.informerEvent(EventDelete)
		},
		OnWatchError: func(string, error) {
			m.informerWatchErrors.Inc()
		},
	}
}

func (m *Metrics) informerEvent(typ string) {
	m.informerEvents.WithLabelValues(typ).Inc()
	m.informerLastEvent.Set(float64(m.now().UnixNano()) / 1e9)
}

// RegisterCacheSynced adds replicasd_cache_synced, 1 once synced reports
// true and 0 before.
func (m *Metrics) RegisterCacheSynced(synced func() bool) {
	m.registerer.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "cache_synced",
		Help: "1 once the informer cache has synced, 0 before.",
	}, func() float64 {
		if synced() {
			return 1
		}
		return 0
	}))
}

// RegisterReady adds replicasd_ready, 1 while ready reports nil (the
// /readyz answer) and 0 otherwise, for alerts on a replica that stays
// unready.
func (m *Metrics) RegisterReady(ready func() error) {
	m.registerer.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "ready",
		Help: "1 while the server is ready (/readyz answers 200: cache synced, Kubernetes reachable, not shutting down), 0 otherwise.",
	}, func() float64 {
		if ready() != nil {
			return 0
		}
		return 1
	}))
}

// Store is the cache's read side, as the API uses it (api.Store).
type Store interface {
	Get(namespace, name string) (*deployments.Deployment, error)
	List(namespace string, selector labels.Selector) ([]*deployments.Deployment, error)
	WaitForNamespaceResourceVersion(ctx context.Context, namespace, rv string) error
}

// CountReads returns store with its answers to Get and List counted in
// replicasd_cache_reads_total. The API makes one such call per read, so the
// counter is the number of reads the cache served; "not found" is an answer
// from the cache too, "not synced yet" is not.
func (m *Metrics) CountReads(store Store) Store {
	return &countingStore{Store: store, reads: m.cacheReads}
}

type countingStore struct {
	Store
	reads prometheus.Counter
}

func (s *countingStore) Get(namespace, name string) (*deployments.Deployment, error) {
	d, err := s.Store.Get(namespace, name)
	s.count(err)
	return d, err
}

func (s *countingStore) List(namespace string, selector labels.Selector) ([]*deployments.Deployment, error) {
	ds, err := s.Store.List(namespace, selector)
	s.count(err)
	return ds, err
}

func (s *countingStore) count(err error) {
	if err == nil || errors.Is(err, deployments.ErrNotFound) {
		s.reads.Inc()
	}
}
