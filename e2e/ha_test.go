package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
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

	It("killing one replica mid-load loses no accepted write", func() {
		victim := startServer("victim")
		victim.waitReady()
		waitServed(victim, path)

		type accepted struct {
			count int
			rv    uint64
		}
		var last accepted
		for i := range 40 {
			s := victim
			if i%2 == 1 {
				s = b
			}
			if i == 20 {
				victim.kill() // mid-load, without warning
			}
			resp, err := s.do(s.client, http.MethodPut, path, fmt.Sprintf(`{"replicaCount": %d}`, i+2), nil)
			if err != nil || resp.Status != http.StatusOK {
				Expect(s).To(Equal(victim), "only the killed replica may fail: %v %v", err, resp.Body)
				continue
			}
			last = accepted{count: i + 2, rv: resp.ResourceVersion()}
		}
		Expect(last.count).NotTo(BeZero())
		// Every accepted write is durable: the last one stands, in the API
		// and through the surviving replica.
		Expect(apiReplicas(ns, "web")).To(Equal(last.count))
		get := b.get(fmt.Sprintf("%s?minResourceVersion=%d", path, last.rv))
		Expect(get.ReplicaCount()).To(Equal(last.count))
	})
})
