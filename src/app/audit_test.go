package app

import (
	"fmt"
	"strings"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/replicasd/replicasd/src/audit"
	"github.com/replicasd/replicasd/src/audit/audittest"
	"github.com/replicasd/replicasd/src/deployments/fakecluster"
)

// TestRefusedAndFailedPutsAuditTheRequestedCount: every PUT whose body held
// an integer says in its audit event which count it asked for, whether it
// was written, refused (400, 412) or failed in Kubernetes (502).
func TestRefusedAndFailedPutsAuditTheRequestedCount(t *testing.T) {
	cluster, err := fakecluster.New(
		fakecluster.Deployment("default", "web", 2, nil),
		fakecluster.Deployment("default", "broken", 2, nil),
	)
	if err != nil {
		t.Fatal(err)
	}
	cluster.PrependReactor("update", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if s, ok := a.(k8stesting.UpdateAction).GetObject().(*autoscalingv1.Scale); ok && s.Name == "broken" {
			return true, nil, apierrors.NewInternalError(fmt.Errorf("etcd is sad"))
		}
		return false, nil, nil
	})
	o := startObserved(t, cluster, nil) // --max-replicas 100
	cases := []struct {
		name, body, ifMatch string
		wantStatus          int
		wantRequested       int64
	}{
		{name: "web", body: `{"replicaCount": 5}`, wantStatus: 200, wantRequested: 5},
		{name: "web", body: `{"replicaCount": 6}`, ifMatch: `"1"`, wantStatus: 412, wantRequested: 6},
		{name: "web", body: `{"replicaCount": 500}`, wantStatus: 400, wantRequested: 500},
		{name: "web", body: `{"replicaCount": -3}`, wantStatus: 400, wantRequested: -3},
		{name: "broken", body: `{"replicaCount": 7}`, wantStatus: 502, wantRequested: 7},
	}
	ids := map[string]int{}
	for i, c := range cases {
		headers := []string{"X-Request-ID", fmt.Sprintf("case-%d", i)}
		if c.ifMatch != "" {
			headers = append(headers, "If-Match", c.ifMatch)
		}
		code, id := o.do("PUT", o.base+"/deployments/"+c.name+"/replicas", c.body, headers...)
		if code != c.wantStatus {
			t.Fatalf("PUT %s %s = %d, want %d", c.name, c.body, code, c.wantStatus)
		}
		ids[id] = i
	}
	o.stop()
	events := audittest.Find(audittest.Decode(t, o.audit.Bytes()), func(ev audit.Event) bool { return ev.Kind == audit.KindRequest })
	if len(events) != len(cases) {
		t.Fatalf("events = %s, want one per PUT", audittest.String(events))
	}
	for _, ev := range events {
		c := cases[ids[ev.RequestID]]
		if ev.Outcome.Status != c.wantStatus || ev.Replicas == nil || ev.Replicas.Requested == nil || *ev.Replicas.Requested != c.wantRequested {
			t.Errorf("event %s, want status %d with replicas.requested %d", audittest.String([]audit.Event{ev}), c.wantStatus, c.wantRequested)
		}
	}
}

// TestPanickingHandlerIsAnsweredAuditedAndCounted: a panic while serving a
// PUT (here inside the Kubernetes client) is a 500 with the envelope, an
// audit event and a count, and the server goes on serving.
func TestPanickingHandlerIsAnsweredAuditedAndCounted(t *testing.T) {
	cluster, err := fakecluster.New(fakecluster.Deployment("default", "web", 2, nil))
	if err != nil {
		t.Fatal(err)
	}
	cluster.PrependReactor("update", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		panic("a bug")
	})
	o := startObserved(t, cluster, nil)
	code, id := o.do("PUT", o.base+"/deployments/web/replicas", `{"replicaCount": 5}`)
	if code != 500 || id == "" {
		t.Fatalf("PUT = %d (request ID %q), want 500 with a request ID", code, id)
	}
	if code, body := o.get(o.base + "/deployments/web/replicas"); code != 200 {
		t.Fatalf("GET after the panic = %d %s, want 200", code, body)
	}
	if v, ok := sample(scrape(t, o.ops), "replicasd_http_handler_panics_total"); !ok || v != 1 {
		t.Errorf("replicasd_http_handler_panics_total = %v (present %v), want 1", v, ok)
	}
	o.stop()
	events := audittest.Find(audittest.Decode(t, o.audit.Bytes()), func(ev audit.Event) bool { return ev.RequestID == id })
	if len(events) != 1 || events[0].Outcome.Status != 500 || events[0].Outcome.Message != "internal server error" {
		t.Errorf("events = %s, want one 500", audittest.String(events))
	}
	if n := strings.Count(string(o.logs.Bytes()), "API handler panicked"); n != 1 {
		t.Errorf("the panic was logged %d times, want once", n)
	}
}
