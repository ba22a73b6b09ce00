package app

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/replicasd/replicasd/src/deployments/fakecluster"
)

// bgAnswer is what a request sent in the background got.
type bgAnswer struct {
	code int
	body string
	err  error
}

// send runs req on h's client in the background.
func (h *harness) send(req *http.Request) <-chan bgAnswer {
	out := make(chan bgAnswer, 1)
	go func() {
		resp, err := h.client.Do(req)
		if err != nil {
			out <- bgAnswer{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		out <- bgAnswer{code: resp.StatusCode, body: string(b)}
	}()
	return out
}

// holdScaleUpdates makes every UpdateScale of cluster wait until release is
// closed, after telling entered; then the update goes through.
func holdScaleUpdates(cluster *fakecluster.Cluster, entered chan<- struct{}, release <-chan struct{}) {
	cluster.PrependReactor("update", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "scale" {
			entered <- struct{}{}
			<-release
		}
		return false, nil, nil // on to fakecluster's own reactor
	})
}

// gathered reads the server's registry directly: the ops port is closed
// once shutdown starts.
func gathered(t *testing.T, h *harness) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := h.server.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// beginShutdown cancels Run's context and waits until shutdown has begun.
// Until the fix, the informers stopped right then; it waits (bounded) for
// them to stop, so that a test relying on them fails for certain.
func (h *harness) beginShutdown() {
	h.t.Helper()
	h.cancel()
	h.eventually(func() bool {
		err := h.server.checker.Ready()
		return err != nil && strings.Contains(err.Error(), "shutting down")
	})
	select {
	case <-h.server.cache.Stopped():
	case <-time.After(time.Second):
	}
}

func putRequest(t *testing.T, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

func TestPutInFlightAtShutdownSeesItsWriteInTheCache(t *testing.T) {
	cluster, err := fakecluster.New(fakecluster.Deployment("default", "web", 2, nil))
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}, 1), make(chan struct{})
	holdScaleUpdates(cluster, entered, release)
	o := startObserved(t, cluster, func(c *Config) {
		c.ReadYourWritesTimeout = 2 * time.Second
		c.ShutdownTimeout = 20 * time.Second
	})
	put := o.send(putRequest(t, o.base+"/deployments/web/replicas", `{"replicaCount": 5}`))
	<-entered
	o.beginShutdown()
	close(release)

	a := <-put
	if a.err != nil || a.code != http.StatusOK || !strings.Contains(a.body, `"replicaCount":5`) {
		t.Fatalf("PUT in flight at shutdown = %d %q (%v), want 200 with the new count", a.code, a.body, a.err)
	}
	// The read-your-writes wait saw the write in the cache instead of
	// running out of time: the informers were still running.
	if v, ok := sample(gathered(t, o.harness), "replicasd_scale_read_your_writes_timeouts_total"); !ok || v != 0 {
		t.Errorf("read-your-writes timeouts = %v (present %v), want 0: the cache stopped before the PUT finished", v, ok)
	}
	if err, ok := o.wait(); !ok || err != nil {
		t.Fatalf("Run() = %v (returned %v), want nil", err, ok)
	}
}

func TestMinResourceVersionGetInFlightAtShutdownIsAnswered(t *testing.T) {
	cluster, err := fakecluster.New(fakecluster.Deployment("default", "web", 2, nil))
	if err != nil {
		t.Fatal(err)
	}
	h := startWith(t, cluster, func(c *Config) {
		c.MinResourceVersionTimeout = 10 * time.Second
		c.ShutdownTimeout = 20 * time.Second
	})
	h.eventually(func() bool { code, _ := h.get(h.ops + "/readyz"); return code == 200 })
	stored, err := cluster.Stored("default", "web")
	if err != nil {
		t.Fatal(err)
	}
	rv, _ := strconv.ParseInt(stored.ResourceVersion, 10, 64)
	// The Kubernetes API moves past the cache first (a change the cache
	// does not watch), so the wait below is not refused as "too large";
	// the cache reaches it only with the update after the shutdown began.
	cluster.Advance(1)
	req, _ := http.NewRequest(http.MethodGet, h.base+"/deployments/web/replicas?minResourceVersion="+strconv.FormatInt(rv+1, 10), nil)
	get := h.send(req)
	h.eventually(func() bool {
		v, _ := sample(gathered(t, h), "replicasd_http_requests_in_flight")
		return v == 1
	})
	h.beginShutdown()
	if _, err := cluster.Update("default", "web", func(d *appsv1.Deployment) { seven := int32(7); d.Spec.Replicas = &seven }); err != nil {
		t.Fatal(err)
	}

	a := <-get
	if a.err != nil || a.code != http.StatusOK || !strings.Contains(a.body, `"replicaCount":7`) {
		t.Fatalf("GET ?minResourceVersion in flight at shutdown = %d %q (%v), want 200 with the new count", a.code, a.body, a.err)
	}
	if err, ok := h.wait(); !ok || err != nil {
		t.Fatalf("Run() = %v (returned %v), want nil", err, ok)
	}
}

func TestDrainLongerThanShutdownTimeoutExitsCleanlyAndLogsTheCut(t *testing.T) {
	cluster, err := fakecluster.New(fakecluster.Deployment("default", "web", 2, nil))
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}, 1), make(chan struct{})
	holdScaleUpdates(cluster, entered, release)
	// Registered before the harness's own cleanup, so it runs after it:
	// the held handler is let go once Run has returned.
	t.Cleanup(func() { close(release) })
	o := startObserved(t, cluster, func(c *Config) { c.ShutdownTimeout = 300 * time.Millisecond })
	put := o.send(putRequest(t, o.base+"/deployments/web/replicas", `{"replicaCount": 5}`))
	<-entered
	o.cancel()

	if err, ok := o.wait(); !ok || err != nil {
		t.Fatalf("Run() = %v (returned %v), want nil: a drain that runs out of time still exits 0", err, ok)
	}
	if a := <-put; a.err == nil {
		t.Errorf("the PUT held past the shutdown timeout got an answer: %d %q, want its connection cut", a.code, a.body)
	}
	var cut []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(o.logs.Bytes())), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["requests"] != nil {
			cut = append(cut, rec)
		}
	}
	if len(cut) != 1 || cut[0]["requests"] != float64(1) || !strings.Contains(cut[0]["msg"].(string), "cut") {
		t.Fatalf("log lines with a requests count = %v, want one saying 1 request was cut", cut)
	}
}
