package e2e

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Two replicas of the server share nothing but the Kubernetes API.
var _ = Describe("high availability: two replicas", Ordered, func() {
	var (
		a, b     *server
		ns, path string
	)
	BeforeAll(func() {
		a = primary
		b = secondaryServer()
		b.waitReady()
		DeferCleanup(func() {
			if b.cmd != nil && b.cmd.ProcessState == nil {
				b.terminate()
			}
		})
	})
	BeforeEach(func() {
		ns = newNamespace("ha")
		createDeployment(ns, "web", 1)
		path = "/namespaces/" + ns + "/deployments/web/replicas"
		waitServed(a, path)
		waitServed(b, path)
	})

	It("a write through one replica is visible through the other with ?minResourceVersion", func() {
		for i := range 20 {
			writer, reader := a, b
			if i%2 == 1 {
				writer, reader = b, a
			}
			put := writer.put(path, i+2, "")
			Expect(put.Status).To(Equal(http.StatusOK), put.Body)
			rv := strings.Trim(put.Header.Get("ETag"), `"`)
			get := reader.get(path + "?minResourceVersion=" + rv)
			Expect(get.ReplicaCount()).To(Equal(i+2), "write %d through %s, read through %s", i, writer.name, reader.name)
			Expect(get.ResourceVersion()).To(BeNumerically(">=", put.ResourceVersion()))
		}
	})

	It("concurrent If-Match writes spread over both replicas have exactly one winner", func() {
		waitSettled(ns, "web")
		Eventually(func() string { return a.get(path).Header.Get("ETag") }).Should(Equal(fmt.Sprintf("%q", currentRV(ns, "web"))))
		etag := a.get(path).Header.Get("ETag")
		const clients = 20
		var wins, stale atomic.Int32
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				defer GinkgoRecover()
				s := a
				if i%2 == 1 {
					s = b
				}
				resp := s.put(path, i+2, etag)
				switch resp.Status {
				case http.StatusOK:
					wins.Add(1)
				case http.StatusPreconditionFailed:
					stale.Add(1)
					Expect(resp.ErrorMessage()).NotTo(BeEmpty())
				default:
					Fail(fmt.Sprintf("unexpected %d: %s", resp.Status, resp.Body))
				}
			})
		}
		wg.Wait()
		Expect(wins.Load()).To(BeEquivalentTo(1))
		Expect(stale.Load()).To(BeEquivalentTo(clients - 1))
	})

	It("a client reading through both replicas with ?minResourceVersion never sees a smaller resourceVersion", func() {
		// Writers move the Deployment through both replicas while one
		// client alternates its reads between them, each read asking for
		// at least the version it saw last.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				defer GinkgoRecover()
				s := []*server{a, b}[w]
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					Expect(s.put(path, 2+(i%50)*2+w, "").Status).To(Equal(http.StatusOK))
				}
			})
		}
		var last uint64
		for i := range 100 {
			s := []*server{a, b}[i%2]
			get := s.get(fmt.Sprintf("%s?minResourceVersion=%d", path, last))
			Expect(get.Status).To(Equal(http.StatusOK), "read %d through %s: %s", i, s.name, get.Body)
			rv := get.ResourceVersion()
			Expect(rv).To(BeNumerically(">=", last), "read %d through %s went back", i, s.name)
			last = rv
		}
		close(stop)
		wg.Wait()
	})

	It("killing one replica while writes are in flight loses no acknowledged write and applies none twice", func() {
		victim := startServer("victim")
		victim.waitReady()
		waitServed(victim, path)
		history := watchReplicas(ns, "web")

		type ack struct {
			count int
			rv    uint64
		}
		var (
			mu       sync.Mutex
			acks     []ack
			next     atomic.Int32 // each write sets a count no other write sets
			inflight atomic.Int32 // writes the victim has not answered yet
			killed   atomic.Bool
		)
		next.Store(1)
		const writers, writesEach = 6, 20
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				defer GinkgoRecover()
				for i := range writesEach {
					s := b
					if (w+i)%2 == 0 && !killed.Load() {
						s = victim
					}
					count := int(next.Add(1))
					if s == victim {
						inflight.Add(1)
					}
					resp, err := s.do(s.client, http.MethodPut, path, fmt.Sprintf(`{"replicaCount": %d}`, count), nil)
					if s == victim {
						inflight.Add(-1)
					}
					if err != nil || resp.Status != http.StatusOK {
						Expect(s).To(Equal(victim), "only the killed replica may fail: %v %v", err, resp.Body)
						continue
					}
					mu.Lock()
					acks = append(acks, ack{count: count, rv: resp.ResourceVersion()})
					mu.Unlock()
				}
			})
		}
		// Kill it, without warning, while it has writes in hand.
		Eventually(inflight.Load).WithTimeout(60 * time.Second).WithPolling(time.Millisecond).Should(BeNumerically(">=", 2))
		Expect(victim.cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
		killed.Store(true)
		Eventually(victim.exited).WithTimeout(10 * time.Second).Should(Receive())
		wg.Wait()

		Expect(acks).NotTo(BeEmpty())
		last := slices.MaxFunc(acks, func(x, y ack) int { return cmp.Compare(x.rv, y.rv) })
		// The last acknowledged write stands, in the API and through the
		// surviving replica.
		Expect(apiReplicas(ns, "web")).To(Equal(last.count))
		get := b.get(fmt.Sprintf("%s?minResourceVersion=%d", path, last.rv))
		Expect(get.ReplicaCount()).To(Equal(last.count))
		// Every acknowledged write is in the Deployment's history at the
		// version it was acknowledged with, and no count was set twice.
		Eventually(history.lastRV).WithTimeout(30 * time.Second).Should(BeNumerically(">=", last.rv))
		seen := history.changes()
		for _, a := range acks {
			Expect(seen).To(ContainElement(replicasChange{RV: a.rv, Replicas: a.count}), "acknowledged write of %d at %d", a.count, a.rv)
		}
		times := map[int]int{}
		for _, c := range seen {
			times[c.Replicas]++
		}
		for count, n := range times {
			Expect(n).To(Equal(1), "the count %d was set %d times", count, n)
		}
	})
})

// replicasChange is one change of a Deployment's spec.replicas, as a watch
// saw it.
type replicasChange struct {
	RV       uint64
	Replicas int
}

// replicasHistory records every change of spec.replicas a watch delivers.
type replicasHistory struct {
	mu   sync.Mutex
	seen []replicasChange
	rv   uint64
}

func (h *replicasHistory) lastRV() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rv
}

func (h *replicasHistory) changes() []replicasChange {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.seen)
}

// watchReplicas watches one Deployment from its current version until the
// spec ends and records each change of spec.replicas.
func watchReplicas(namespace, name string) *replicasHistory {
	GinkgoHelper()
	ctx, cancel := context.WithCancel(context.Background())
	DeferCleanup(cancel)
	d, err := adminKube.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	Expect(err).NotTo(HaveOccurred())
	w, err := adminKube.AppsV1().Deployments(namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + name, ResourceVersion: d.ResourceVersion, TimeoutSeconds: ptr.To[int64](900),
	})
	Expect(err).NotTo(HaveOccurred())
	h := &replicasHistory{}
	prev := *d.Spec.Replicas
	go func() {
		defer w.Stop()
		for ev := range w.ResultChan() {
			d, ok := ev.Object.(*appsv1.Deployment)
			if !ok {
				continue
			}
			rv, _ := strconv.ParseUint(d.ResourceVersion, 10, 64)
			h.mu.Lock()
			if *d.Spec.Replicas != prev {
				h.seen = append(h.seen, replicasChange{RV: rv, Replicas: int(*d.Spec.Replicas)})
				prev = *d.Spec.Replicas
			}
			h.rv = rv
			h.mu.Unlock()
		}
	}()
	return h
}
