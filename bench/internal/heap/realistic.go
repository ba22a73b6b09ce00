package heap

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/replicasd/replicasd/bench/internal/kube"
)

// managedFields are the entries kube-apiserver records for a seeded
// Deployment (kubectl's client-side apply, then the status update),
// captured from the kwok cluster.
//
//go:embed managedfields.json
var managedFields []byte

// Realistic returns n Deployments as kube-apiserver would serve the ones
// kube.Seed creates: with UID, generation, creation time, managedFields and
// the settled status.
func Realistic(n int, now time.Time) []*appsv1.Deployment {
	var entries []metav1.ManagedFieldsEntry
	if err := json.Unmarshal(managedFields, &entries); err != nil {
		panic(fmt.Sprintf("embedded managedfields.json: %v", err)) // a build-time constant
	}
	created := metav1.NewTime(now.Truncate(time.Second))
	out := make([]*appsv1.Deployment, n)
	for i := range out {
		d := kube.Deployment(i)
		d.UID = types.UID(fmt.Sprintf("6f1c3a52-0b7e-4c1d-9a4e-%012d", i))
		d.Generation = 1
		d.CreationTimestamp = created
		d.ManagedFields = make([]metav1.ManagedFieldsEntry, len(entries))
		for j, e := range entries {
			e.Time = &created
			d.ManagedFields[j] = e
		}
		d.Status = kube.SettledStatus(d, created)
		out[i] = d
	}
	return out
}
