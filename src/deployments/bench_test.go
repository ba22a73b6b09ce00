package deployments

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

// benchNamespaces spreads the benchmark's Deployments over this many
// namespaces.
const benchNamespaces = 10

func benchNamespace(i int) string { return fmt.Sprintf("ns-%02d", i%benchNamespaces) }
func benchName(i int) string      { return fmt.Sprintf("deploy-%05d", i) }

// benchFixture holds n full-size Deployments; one in ten has tier=web.
func benchFixture(b *testing.B, n int) *fixture {
	b.Helper()
	f := newFixture(b)
	for i := range n {
		tier := "backend"
		if i%10 == 0 {
			tier = "web"
		}
		f.create(deployment(benchNamespace(i), benchName(i), 3, map[string]string{"app": benchName(i), "tier": tier}))
	}
	return f
}

func BenchmarkCacheGet(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("deployments=%d", n), func(b *testing.B) {
			c := startCache(b, benchFixture(b, n), CacheConfig{})
			namespaces, names := make([]string, n), make([]string, n)
			for i := range n {
				namespaces[i], names[i] = benchNamespace(i), benchName(i)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := c.Get(namespaces[i], names[i]); err != nil {
					b.Fatal(err)
				}
				i = (i + 1) % n
			}
		})
	}
}

func BenchmarkCacheList(b *testing.B) {
	web := labels.SelectorFromSet(labels.Set{"tier": "web"})
	for _, n := range []int{1000, 10000} {
		c := startCache(b, benchFixture(b, n), CacheConfig{})
		for _, bc := range []struct {
			name      string
			namespace string
			selector  labels.Selector
			want      int
		}{
			{name: "all", namespace: "", selector: labels.Everything(), want: n},
			{name: "one-namespace", namespace: benchNamespace(0), selector: labels.Everything(), want: n / benchNamespaces},
			{name: "selector", namespace: "", selector: web, want: n / 10},
		} {
			b.Run(fmt.Sprintf("deployments=%d/%s", n, bc.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					list, err := c.List(bc.namespace, bc.selector)
					if err != nil || len(list) != bc.want {
						b.Fatalf("List = %d items, %v; want %d", len(list), err, bc.want)
					}
				}
			})
		}
	}
}

// BenchmarkCacheMemory reports the heap the cache holds per Deployment, with
// and without StripDeployment: the heap with the cache synced minus the heap
// once it has stopped and been dropped.
func BenchmarkCacheMemory(b *testing.B) {
	const n = 1000
	for _, disable := range []bool{false, true} {
		b.Run(fmt.Sprintf("transform=%v", !disable), func(b *testing.B) {
			f := benchFixture(b, n)
			var held int64
			for b.Loop() {
				held = cacheHeap(b, f, disable)
			}
			b.ReportMetric(float64(held)/n, "heap-B/deployment")
		})
	}
}

func cacheHeap(b *testing.B, f *fixture, disableTransform bool) int64 {
	c, err := NewCache(f.client, CacheConfig{DisableTransform: disableTransform}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	withCache := heapInUse()
	cancel()
	<-c.Stopped()
	runtime.KeepAlive(c)
	c = nil
	return withCache - heapInUse()
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
