package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/rs/zerolog"
	"k8s.io/client-go/rest"

	"github.com/replicasd/replicasd/src/app"
)

// kubeProxy is a toxiproxy proxy, run in-process, between replicasd and
// envtest's kube-apiserver: the TCP faults of these specs are its toxics.
type kubeProxy struct {
	proxy *toxiproxy.Proxy
}

// toxic is one toxic as toxiproxy's API takes it. Toxicity 0 installs it
// switched off: a reset_peer toxic only resets (rather than closes)
// connections that were opened while it was installed, so it must be in
// place before replicasd connects and is switched on later.
type toxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// newKubeProxy starts a proxy to the test kube-apiserver with toxics
// installed; it stops when the spec ends.
func newKubeProxy(toxics ...toxic) *kubeProxy {
	GinkgoHelper()
	u, err := url.Parse(adminCfg.Host)
	Expect(err).NotTo(HaveOccurred())
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := &kubeProxy{proxy: toxiproxy.NewProxy(server, "kube-apiserver", "127.0.0.1:0", u.Host)}
	Expect(p.proxy.Start()).To(Succeed())
	DeferCleanup(p.proxy.Stop)
	for _, t := range toxics {
		p.add(t)
	}
	return p
}

// restConfig is the test kube-apiserver's admin configuration, through the
// proxy. The serving certificate covers 127.0.0.1, so TLS verifies.
func (p *kubeProxy) restConfig() *rest.Config {
	cfg := rest.CopyConfig(adminCfg)
	cfg.Host = "https://" + p.proxy.Listen
	return cfg
}

func (p *kubeProxy) add(t toxic) {
	GinkgoHelper()
	b, err := json.Marshal(t)
	Expect(err).NotTo(HaveOccurred())
	_, err = p.proxy.Toxics.AddToxicJson(bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred())
}

// update changes a toxic's toxicity and attributes.
func (p *kubeProxy) update(name string, toxicity float32, attrs map[string]any) {
	GinkgoHelper()
	b, err := json.Marshal(map[string]any{"toxicity": toxicity, "attributes": attrs})
	Expect(err).NotTo(HaveOccurred())
	_, err = p.proxy.Toxics.UpdateToxicJson(name, bytes.NewReader(b))
	Expect(err).NotTo(HaveOccurred())
}

func (p *kubeProxy) remove(names ...string) {
	GinkgoHelper()
	for _, name := range names {
		Expect(p.proxy.Toxics.RemoveToxic(context.Background(), name)).To(Succeed())
	}
}

// stall drops every byte in both directions without closing anything: a
// peer that accepted the connection and then says nothing.
var stall = []toxic{
	{Name: "stall-up", Type: "timeout", Stream: "upstream", Toxicity: 1, Attributes: map[string]any{"timeout": 0}},
	{Name: "stall-down", Type: "timeout", Stream: "downstream", Toxicity: 1, Attributes: map[string]any{"timeout": 0}},
}

var _ = Describe("Kubernetes API faults (toxiproxy between replicasd and kube-apiserver)", func() {
	var (
		ns    string
		proxy *kubeProxy
		r     *replicasd
	)
	path := func() string { return "/namespaces/" + ns + "/deployments/web/replicas" }

	// start runs replicasd through a proxy with toxics, watching one
	// namespace, with a bound of one request in flight so that a request
	// that kept its slot would make the next one 429.
	start := func(kubeAPITimeout time.Duration, toxics ...toxic) {
		GinkgoHelper()
		ns = newNamespace()
		createDeployment(ns, "web", 2, nil)
		proxy = newKubeProxy(toxics...)
		r = startReplicasd(proxy.restConfig(), func(c *app.Config) {
			c.Namespaces = []string{ns}
			c.DefaultNamespace = ns
			c.KubeAPITimeout = kubeAPITimeout
			c.MaxInflightRequests = 1
		})
		r.waitReady()
		Expect(replicaCount(r.get(path()))).To(BeEquivalentTo(2))
	}

	// putAsync sends the PUT in the background, so the spec can change the
	// faults while it is in flight.
	putAsync := func(replicas int) <-chan response {
		ch := make(chan response, 1)
		go func() {
			defer GinkgoRecover()
			resp, err := r.do(http.MethodPut, path(), `{"replicaCount": `+itoa(replicas)+`}`, nil)
			Expect(err).NotTo(HaveOccurred(), "the PUT must get an HTTP answer, not a cut connection")
			ch <- resp
		}()
		return ch
	}

	// holdUpdateAnswer delays everything kube-apiserver sends, waits until
	// the PUT's update has landed (seen directly, not through the proxy),
	// and then switches on the toxic named fault while the update's
	// answer is still held back.
	holdUpdateAnswer := func(fault string) response {
		GinkgoHelper()
		proxy.update("hold", 1, map[string]any{"latency": 3000})
		answer := putAsync(5)
		Eventually(func() int32 { return specReplicas(ns, "web") }).WithTimeout(15 * time.Second).WithPolling(20 * time.Millisecond).
			Should(BeEquivalentTo(5))
		proxy.update(fault, 1, nil)
		var resp response
		Eventually(answer).WithTimeout(30 * time.Second).Should(Receive(&resp))
		return resp
	}

	// expectUnavailable checks the 503 of a PUT whose Kubernetes call got
	// no answer, and returns its message.
	expectUnavailable := func(resp response) string {
		GinkgoHelper()
		Expect(resp.Status).To(Equal(http.StatusServiceUnavailable), resp.Body)
		Expect(resp.Header.Get("Retry-After")).To(Equal("5"))
		msg := resp.ErrorMessage()
		Expect(msg).NotTo(ContainSubstring("127.0.0.1"), "the API server's address stays in the log")
		return msg
	}

	// recovered removes the faults and expects the cache, read through
	// replicasd, to agree with kube-apiserver: nothing lost.
	recovered := func(want int, toxics ...string) {
		GinkgoHelper()
		proxy.remove(toxics...)
		Eventually(func() int32 { return specReplicas(ns, "web") }).WithTimeout(10 * time.Second).Should(BeEquivalentTo(want))
		Eventually(func() float64 { return replicaCount(r.get(path())) }).WithTimeout(60 * time.Second).Should(BeEquivalentTo(want))
		r.waitReady()
	}

	It("answers a PUT whose read of the scale stalls with 503, Retry-After and 'nothing was written', and frees its slot", func() {
		start(2 * time.Second)
		proxy.add(stall[0])

		resp, err := r.do(http.MethodPut, path(), `{"replicaCount": 5}`, nil)
		Expect(err).NotTo(HaveOccurred(), "the PUT must get an HTTP answer, not a cut connection")
		msg := expectUnavailable(resp)
		Expect(msg).To(ContainSubstring("the Kubernetes API did not answer within 2s while reading the scale of deployment"))
		Expect(msg).To(ContainSubstring("nothing was written; try again later"))

		// One request in flight at most: this GET would be 429 if the PUT
		// still held its slot. Reads come from the cache, stall or not.
		Expect(replicaCount(r.get(path()))).To(BeEquivalentTo(2))
		Expect(specReplicas(ns, "web")).To(BeEquivalentTo(2))
		recovered(2, "stall-up")
	})

	It("answers a PUT whose update landed but whose answer stalls with 503 and 'the write may have been applied'", func() {
		start(10*time.Second,
			toxic{Name: "hold", Type: "latency", Stream: "downstream", Toxicity: 1, Attributes: map[string]any{"latency": 0}},
			toxic{Name: "drop", Type: "timeout", Stream: "downstream", Toxicity: 0, Attributes: map[string]any{"timeout": 0}})

		msg := expectUnavailable(holdUpdateAnswer("drop"))
		Expect(msg).To(ContainSubstring("the Kubernetes API did not answer within 10s while updating the scale of deployment"))
		Expect(msg).To(ContainSubstring("the write may have been applied; GET to check"))

		Expect(replicaCount(r.get(path()))).NotTo(BeZero(), "the slot is free and reads are served")
		recovered(5, "hold", "drop")
	})

	It("answers a PUT whose connection is reset after the update landed with 503 and 'the write may have been applied'", func() {
		start(10*time.Second,
			toxic{Name: "hold", Type: "latency", Stream: "downstream", Toxicity: 1, Attributes: map[string]any{"latency": 0}},
			toxic{Name: "reset", Type: "reset_peer", Stream: "downstream", Toxicity: 0, Attributes: map[string]any{"timeout": 0}})

		msg := expectUnavailable(holdUpdateAnswer("reset"))
		Expect(msg).To(ContainSubstring("the connection to the Kubernetes API failed while updating the scale of deployment"))
		Expect(msg).To(ContainSubstring("the write may have been applied; GET to check"))
		recovered(5, "hold", "reset")
	})

	It("turns /readyz and /api/v1/health 503 while the connection under the watch stalls, and keeps serving cached reads", func() {
		start(0)
		for _, t := range stall {
			proxy.add(t)
		}

		// Documented: within about 4s (one probe interval plus its
		// timeout); the bound here is sized for a loaded machine.
		Eventually(r.readyz).WithTimeout(20 * time.Second).WithPolling(100 * time.Millisecond).Should(Equal(http.StatusServiceUnavailable))
		Eventually(func() int { return r.get("/health").Status }).WithTimeout(20 * time.Second).Should(Equal(http.StatusServiceUnavailable))
		health := r.get("/health").JSON()
		Expect(health).To(HaveKeyWithValue("status", "unhealthy"))
		Expect(health).To(HaveKeyWithValue("kubernetes", "disconnected"))
		Expect(replicaCount(r.get(path()))).To(BeEquivalentTo(2))
		Expect(r.get("/deployments?namespace=" + ns).Body).To(ContainSubstring(`"name":"web"`))

		recovered(2, "stall-up", "stall-down")
		Expect(strings.Contains(r.logs.String(), "Kubernetes API unreachable")).To(BeTrue(), "the outage is logged")
	})
})
