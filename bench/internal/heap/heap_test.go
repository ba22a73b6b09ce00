package heap

import (
	"context"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/fakeapiserver"
)

func TestMeasure(t *testing.T) {
	const n = 300
	srv := fakeapiserver.New(t, Realistic(n, time.Now())...)
	results := map[bool]Result{}
	for _, transform := range []bool{true, false} {
		r, err := Measure(context.Background(), "fake", srv.RESTConfig(), transform, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Deployments != n || r.BytesPerDeployment <= 0 {
			t.Fatalf("transform %v: %+v", transform, r)
		}
		results[transform] = r
	}
	// The transform drops managedFields, the last-applied annotation and
	// the pod template: several times smaller.
	if on, off := results[true].BytesPerDeployment, results[false].BytesPerDeployment; on*3 > off {
		t.Errorf("with the transform %.0f B per Deployment, without %.0f B: want at least 3× less", on, off)
	}
}

func TestRealistic(t *testing.T) {
	ds := Realistic(3, time.Now())
	for _, d := range ds {
		if len(d.ManagedFields) != 2 || d.UID == "" || d.Generation != 1 || d.Status.ObservedGeneration != 1 {
			t.Errorf("%s is not as kube-apiserver serves it: %+v", d.Name, d.ObjectMeta)
		}
	}
	if ds[0].UID == ds[1].UID {
		t.Error("two Deployments share a UID")
	}
}
