package deployments

import (
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Deployment is what the cache keeps of an apps/v1 Deployment: the fields
// replicasd serves and nothing else. The informer's transform turns each
// *appsv1.Deployment into one (FromAPI), so the cache never holds the API
// object itself: an appsv1.Deployment is a 1.2 KiB struct even with its
// pod template emptied, plus a labels map, where this is about 100 bytes
// and a slice (the cache's heap per Deployment is in docs/benchmarks.md).
//
// Values are shared by the cache, its List views and every reader: they
// must not be modified once built.
type Deployment struct {
	Namespace string
	Name      string
	// ResourceVersion is the object's metadata.resourceVersion, the ETag.
	ResourceVersion string
	// Labels are the Deployment's labels, for label selectors.
	Labels Labels
	// CreationUnix is metadata.creationTimestamp in Unix seconds (the
	// API's precision), 0 when unset.
	CreationUnix int64
	// Replicas is spec.replicas, with an unset value as 1, as the API
	// server defaults it.
	Replicas int32
	// ReadyReplicas, AvailableReplicas and UpdatedReplicas are the status
	// counts of the same names.
	ReadyReplicas     int32
	AvailableReplicas int32
	UpdatedReplicas   int32
}

// FromAPI returns the cached form of d.
func FromAPI(d *appsv1.Deployment) *Deployment {
	out := &Deployment{
		Namespace:         d.Namespace,
		Name:              d.Name,
		ResourceVersion:   d.ResourceVersion,
		Labels:            LabelsFromMap(d.Labels),
		Replicas:          1,
		ReadyReplicas:     d.Status.ReadyReplicas,
		AvailableReplicas: d.Status.AvailableReplicas,
		UpdatedReplicas:   d.Status.UpdatedReplicas,
	}
	if d.Spec.Replicas != nil {
		out.Replicas = *d.Spec.Replicas
	}
	if !d.CreationTimestamp.IsZero() {
		out.CreationUnix = d.CreationTimestamp.Unix()
	}
	return out
}

// CreationTimestamp returns metadata.creationTimestamp in UTC, the zero
// time when unset.
func (d *Deployment) CreationTimestamp() time.Time {
	if d.CreationUnix == 0 {
		return time.Time{}
	}
	return time.Unix(d.CreationUnix, 0).UTC()
}

// GetObjectMeta makes *Deployment a metav1.ObjectMetaAccessor, which is
// how client-go's store finds an object's key and resourceVersion
// (meta.Accessor). It is called a few times per informer event, never on
// reads, so building the small ObjectMeta each time costs less than
// keeping one per cached Deployment.
func (d *Deployment) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name, ResourceVersion: d.ResourceVersion}
}

// Labels is a set of labels kept as one slice of alternating keys and
// values, sorted by key: a third of the memory of a map for the handful of
// labels a Deployment has, and as quick to search at that size. It
// implements k8s.io/apimachinery/pkg/labels.Labels, so label selectors
// match it directly. The zero value is the empty set.
type Labels []string

// LabelsFromMap returns m as Labels; nil when m is empty.
func LabelsFromMap(m map[string]string) Labels {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(Labels, 0, 2*len(m))
	for _, k := range keys {
		out = append(out, k, m[k])
	}
	return out
}

// Lookup returns the value of label and whether it is set.
func (l Labels) Lookup(label string) (string, bool) {
	for i := 0; i+1 < len(l); i += 2 {
		switch c := strings.Compare(l[i], label); {
		case c == 0:
			return l[i+1], true
		case c > 0:
			return "", false // sorted: it is not further on
		}
	}
	return "", false
}

// Has reports whether label is set.
func (l Labels) Has(label string) bool {
	_, ok := l.Lookup(label)
	return ok
}

// Get returns the value of label, "" when unset.
func (l Labels) Get(label string) string {
	v, _ := l.Lookup(label)
	return v
}

// String returns the labels as "key=value,..." sorted by key, like
// labels.Set's String.
func (l Labels) String() string {
	var b strings.Builder
	for i := 0; i+1 < len(l); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l[i])
		b.WriteByte('=')
		b.WriteString(l[i+1])
	}
	return b.String()
}
