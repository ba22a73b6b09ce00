package metrics

import (
	"context"
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/replicasd/replicasd/src/deployments"
)

// Results of scale operations, the values of scale_operations_total's
// result label.
const (
	// ScaleUpdated: the count was written at the first attempt.
	ScaleUpdated = "updated"
	// ScaleNoop: the Deployment already had the count; nothing was written.
	ScaleNoop = "noop"
	// ScalePreconditionFailed: If-Match was stale (412).
	ScalePreconditionFailed = "precondition_failed"
	// ScaleConflictRetried: the count was written after optimistic-lock
	// conflicts were retried.
	ScaleConflictRetried = "conflict_retried"
	// ScaleForbidden: the authorization policy refused the client (403),
	// or Kubernetes RBAC refused replicasd itself.
	ScaleForbidden = "forbidden"
	// ScaleError: any other failure.
	ScaleError = "error"
)

// ScaleResults lists every result, in the order of the constants.
var ScaleResults = []string{
	ScaleUpdated, ScaleNoop, ScalePreconditionFailed, ScaleConflictRetried, ScaleForbidden, ScaleError,
}

// Scaler is the write side, as the API uses it (api.Scaler).
type Scaler interface {
	Scale(ctx context.Context, namespace, name string, replicas int32, ifMatch deployments.IfMatch) (deployments.ScaleResult, error)
}

// CountScales returns scaler with each call counted in
// replicasd_scale_operations_total, and the read-your-writes wait of each
// successful one observed.
func (m *Metrics) CountScales(scaler Scaler) Scaler {
	return &countingScaler{Scaler: scaler, m: m}
}

type countingScaler struct {
	Scaler
	m *Metrics
}

func (s *countingScaler) Scale(ctx context.Context, namespace, name string, replicas int32, ifMatch deployments.IfMatch) (deployments.ScaleResult, error) {
	res, err := s.Scaler.Scale(ctx, namespace, name, replicas, ifMatch)
	s.m.scaleOperations.WithLabelValues(scaleResult(res, err)).Inc()
	if err == nil {
		s.m.rywWait.Observe(res.ReadYourWritesWait.Seconds())
		if res.ReadYourWritesTimedOut {
			s.m.rywTimeouts.Inc()
		}
	}
	return res, err
}

// scaleResult is the result label of one Scale call.
func scaleResult(res deployments.ScaleResult, err error) string {
	switch {
	case err == nil && !res.Changed:
		return ScaleNoop
	case err == nil && res.Conflicts > 0:
		return ScaleConflictRetried
	case err == nil:
		return ScaleUpdated
	case errors.Is(err, deployments.ErrPreconditionFailed):
		return ScalePreconditionFailed
	case apierrors.IsForbidden(err):
		return ScaleForbidden
	}
	return ScaleError
}
