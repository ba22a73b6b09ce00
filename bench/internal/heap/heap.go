// Package heap measures the heap replicasd's informer cache holds per
// Deployment, with its transform (deployments.StripDeployment) and
// without.
package heap

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/replicasd/replicasd/src/deployments"
)

// Result is one measurement.
type Result struct {
	Source      string `json:"source"`
	Deployments int    `json:"deployments"`
	Transform   bool   `json:"transform"`
	// HeldBytes is the live heap the synced cache added.
	HeldBytes int64 `json:"heldBytes"`
	// BytesPerDeployment is HeldBytes / Deployments.
	BytesPerDeployment float64 `json:"bytesPerDeployment"`
	// SyncSeconds is how long the initial list took to reach the cache.
	SyncSeconds float64 `json:"syncSeconds"`
}

// Measure builds the cache replicasd builds (every namespace), over a
// client for cfg, waits for it to sync and returns the live heap it added:
// the heap after a GC with the cache synced, minus the heap after a GC
// before it started. Run it in a fresh process, one measurement each, so
// nothing else moves the heap meanwhile.
func Measure(ctx context.Context, source string, cfg *rest.Config, transform bool, profile string) (Result, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100 // replicasd's defaults
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return Result{}, fmt.Errorf("creating Kubernetes client: %w", err)
	}
	cache, err := deployments.NewCache(client, deployments.CacheConfig{
		DisableTransform: !transform,
		SyncTimeout:      5 * time.Minute,
	}, nil)
	if err != nil {
		return Result{}, err
	}
	before := liveHeap()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	if err := cache.Start(ctx); err != nil {
		return Result{}, err
	}
	took := time.Since(start)
	n, err := size(cache)
	if err != nil {
		return Result{}, err
	}
	after := liveHeap()
	if profile != "" {
		if err := writeHeapProfile(profile); err != nil {
			return Result{}, err
		}
	}
	runtime.KeepAlive(cache)
	if n == 0 {
		return Result{}, fmt.Errorf("the cache holds no deployments")
	}
	held := after - before
	return Result{
		Source:             source,
		Deployments:        n,
		Transform:          transform,
		HeldBytes:          held,
		BytesPerDeployment: float64(held) / float64(n),
		SyncSeconds:        took.Seconds(),
	}, nil
}

// size counts the cached Deployments; the list it makes is garbage once it
// returns.
func size(cache *deployments.Cache) (int, error) {
	list, err := cache.List("", nil)
	return len(list), err
}

// writeHeapProfile writes the live heap's profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// liveHeap returns the bytes of live heap objects after a full collection.
// Two collections let finalizers and sweeping settle.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
