package api

import (
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/replicasd/replicasd/src/deployments"
)

// TestAppendDeploymentMatchesEncodingJSON checks the hand-written encoder
// against encoding/json, including strings that need escaping.
func TestAppendDeploymentMatchesEncodingJSON(t *testing.T) {
	type item struct {
		Namespace         string `json:"namespace"`
		Name              string `json:"name"`
		ReplicaCount      int32  `json:"replicaCount"`
		ResourceVersion   string `json:"resourceVersion"`
		ReadyReplicas     int32  `json:"readyReplicas"`
		AvailableReplicas int32  `json:"availableReplicas"`
		UpdatedReplicas   int32  `json:"updatedReplicas"`
		CreationTimestamp string `json:"creationTimestamp,omitempty"`
	}
	berlin := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		name string
		d    *deployments.Deployment
		want item
	}{
		{name: "plain", d: deployment("default", "web", int32p(3), "100", nil),
			want: item{"default", "web", 3, "100", 2, 1, 3, "2024-05-01T10:00:00Z"}},
		{name: "escapes", d: deployment(`q"uote\`, "<a>&b", int32p(-1), "ünï\u2028\x01\xff", nil),
			want: item{`q"uote\`, "<a>&b", -1, "ünï\u2028\x01\xff", 2, 1, 3, "2024-05-01T10:00:00Z"}},
		{name: "timestamp in another zone is UTC", d: func() *deployments.Deployment {
			d := apiDeployment("a", "b", int32p(2147483647), "", nil)
			d.CreationTimestamp = metav1.NewTime(time.Date(2024, 5, 1, 12, 30, 5, 999, berlin))
			return deployments.FromAPI(d)
		}(), want: item{"a", "b", 2147483647, "", 2, 1, 3, "2024-05-01T10:30:05Z"}},
		{name: "no timestamp, unset replicas", d: func() *deployments.Deployment {
			d := apiDeployment("a", "b", nil, "1", nil)
			d.CreationTimestamp = metav1.Time{}
			return deployments.FromAPI(d)
		}(), want: item{"a", "b", 1, "1", 2, 1, 3, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendDeployment(nil, tt.d); string(got) != string(want) {
				t.Errorf("appendDeployment\n got %s\nwant %s", got, want)
			}
			list, err := json.Marshal([]item{tt.want, tt.want})
			if err != nil {
				t.Fatal(err)
			}
			if got := appendDeploymentList(nil, []*deployments.Deployment{tt.d, tt.d}); string(got) != string(list)+"\n" {
				t.Errorf("appendDeploymentList\n got %s\nwant %s", got, list)
			}
		})
	}
}
