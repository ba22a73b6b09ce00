package deployments

// TEMPORARY (written by the api engineer so src/api compiles): delete this
// file once scaler.go defines ScaleResult.

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// ScaleResult is the outcome of a successful Scale.
type ScaleResult struct {
	Namespace, Name    string
	Replicas           int32
	ResourceVersion    string
	Changed            bool
	Deployment         *appsv1.Deployment // may be nil
	ReadYourWritesWait time.Duration
	Conflicts          int
}
