package deployments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// DefaultReadYourWritesTimeout is used when ScalerConfig.ReadYourWritesTimeout
// is zero.
const DefaultReadYourWritesTimeout = 5 * time.Second

// DefaultKubeAPITimeout is used when ScalerConfig.KubeAPITimeout is zero.
const DefaultKubeAPITimeout = 10 * time.Second

// ScalerConfig configures NewScaler.
type ScalerConfig struct {
	// ReadYourWritesTimeout bounds how long Scale waits for the cache to
	// show its write; zero means DefaultReadYourWritesTimeout.
	ReadYourWritesTimeout time.Duration
	// Backoff paces the retries after a conflict; the zero value means
	// retry.DefaultRetry (5 attempts about 10ms apart).
	Backoff wait.Backoff
	// KubeAPITimeout bounds all the Kubernetes API calls of one Scale
	// (the reads, the update and the retries after conflicts); zero means
	// DefaultKubeAPITimeout.
	KubeAPITimeout time.Duration
}

// ScaleCache is what the Scaler needs from the cache; *Cache implements it.
type ScaleCache interface {
	HasSynced() bool
	Watches(namespace string) bool
	WaitForDeployment(ctx context.Context, namespace, name, rv string) (*Deployment, error)
}

// ScaleResult describes a successful Scale.
type ScaleResult struct {
	Namespace string
	Name      string
	// Replicas is the desired count now set.
	Replicas int32
	// ResourceVersion is the Deployment's resourceVersion after the call:
	// the new one after a write, the current one after a no-op. It is the
	// ETag to answer with.
	ResourceVersion string
	// Changed is false when the Deployment already had Replicas and nothing
	// was written.
	Changed bool
	// PreviousReplicas and PreviousResourceVersion are the scale
	// subresource's count and resourceVersion as last read before the
	// write (after a conflict, the read that the retry used), for audit
	// events. PreviousResourceVersion is "" when that read never happened
	// (not found, not synced, ...); they are set on errors too when it did.
	PreviousReplicas        int32
	PreviousResourceVersion string
	// Deployment is the cached object at ResourceVersion or later, or nil
	// if the cache did not show it within ReadYourWritesTimeout (the write
	// still happened). Shared with the cache: do not modify.
	Deployment *Deployment
	// ReadYourWritesWait is how long the cache took to show the result.
	ReadYourWritesWait time.Duration
	// ReadYourWritesTimedOut is true when the cache did not show the
	// result within ReadYourWritesTimeout: the write happened, but a read
	// from this server may show the old count for a while.
	ReadYourWritesTimedOut bool
	// Conflicts counts the optimistic-lock conflicts met (each retried
	// unless If-Match was given).
	Conflicts int
}

// Scaler sets replica counts through the Deployments' scale subresource.
type Scaler struct {
	client     kubernetes.Interface
	cache      ScaleCache
	rywTimeout time.Duration
	apiTimeout time.Duration
	backoff    wait.Backoff
	logger     *slog.Logger
}

// NewScaler returns a Scaler writing with client and reading its writes
// back from cache. A nil logger discards logs.
func NewScaler(client kubernetes.Interface, cache ScaleCache, cfg ScalerConfig, logger *slog.Logger) *Scaler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Scaler{client: client, cache: cache, rywTimeout: cfg.ReadYourWritesTimeout, apiTimeout: cfg.KubeAPITimeout,
		backoff: cfg.Backoff, logger: logger}
	if s.rywTimeout <= 0 {
		s.rywTimeout = DefaultReadYourWritesTimeout
	}
	if s.apiTimeout <= 0 {
		s.apiTimeout = DefaultKubeAPITimeout
	}
	if s.backoff.Steps <= 0 {
		s.backoff = retry.DefaultRetry
	}
	return s
}

// Scale sets spec.replicas of namespace/name to replicas, if the Deployment
// satisfies ifMatch (the zero IfMatch: unconditionally).
//
// The current count is read from the API, not the cache, so a stale cache
// never turns a needed write into a no-op. With a conditional ifMatch the
// update carries the resourceVersion that matched, so it only lands if
// nothing changed in between, and a conflict is a precondition failure. Without it the update is
// unconditional (last writer wins); a conflict the API server still
// reports is retried. After a successful call Scale waits, at
// most ReadYourWritesTimeout, until the cache shows the result, so a read
// that follows never shows the old count.
//
// All the Kubernetes calls together (reads, update, retries) get at most
// KubeAPITimeout, so a hung API server cannot hold the request past the
// HTTP write timeout.
//
// Errors: NamespaceNotWatched and NotFound (kind ErrNotFound), NotSynced,
// IfMatchFailed and ChangedSinceIfMatch (kind ErrPreconditionFailed);
// KubeAPIUnavailable (kind ErrKubeAPIUnavailable) when a call got no answer
// in time or its connection failed; a Forbidden as a *PermissionError
// naming every permission a scale needs; any other Kubernetes API error is
// returned wrapped once, naming the verb, resource and namespace, so
// apierrors.IsForbidden and the like still work.
func (s *Scaler) Scale(ctx context.Context, namespace, name string, replicas int32, ifMatch IfMatch) (ScaleResult, error) {
	res := ScaleResult{Namespace: namespace, Name: name, Replicas: replicas}
	if !s.cache.Watches(namespace) {
		return res, NamespaceNotWatched(namespace)
	}
	if replicas < 0 {
		return res, &Error{Kind: ErrInvalid, Message: fmt.Sprintf("replica count %d is negative", replicas)}
	}
	if !s.cache.HasSynced() {
		// Without a synced cache the read-your-writes promise cannot be kept.
		return res, NotSynced()
	}
	client := s.client.AppsV1().Deployments(namespace)
	kctx, cancel := context.WithTimeout(ctx, s.apiTimeout)
	defer cancel()
	err := retry.RetryOnConflict(s.backoff, func() error {
		scale, err := client.GetScale(kctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return NotFound(namespace, name)
		case err != nil:
			return permissionError(OpScale, namespace, s.callFailed(ctx, kctx, namespace, name, false, err))
		}
		res.PreviousReplicas, res.PreviousResourceVersion = scale.Spec.Replicas, scale.ResourceVersion
		if !ifMatch.Matches(scale.ResourceVersion) {
			return IfMatchFailed(namespace, name, ifMatch, scale.ResourceVersion)
		}
		res.ResourceVersion = scale.ResourceVersion
		if scale.Spec.Replicas == replicas {
			res.Changed = false
			return nil
		}
		scale.Spec.Replicas = replicas
		if !ifMatch.Conditional() {
			// Last writer wins: without a precondition from the client the
			// update is unconditional, so concurrent writers do not exhaust
			// their retries on each other's resourceVersions. Otherwise the
			// update carries the version that matched.
			scale.ResourceVersion = ""
		}
		updated, err := client.UpdateScale(kctx, name, scale, metav1.UpdateOptions{})
		switch {
		case apierrors.IsConflict(err):
			res.Conflicts++
			if ifMatch.Conditional() {
				return ChangedSinceIfMatch(namespace, name, res.PreviousResourceVersion)
			}
			return err // unwrapped: RetryOnConflict retries exactly this
		case apierrors.IsNotFound(err):
			return NotFound(namespace, name)
		case err != nil:
			return permissionError(OpScale, namespace, s.callFailed(ctx, kctx, namespace, name, true, err))
		}
		res.ResourceVersion = updated.ResourceVersion
		res.Changed = true
		return nil
	})
	if apierrors.IsConflict(err) {
		return res, fmt.Errorf("update deployments.apps/scale %q in namespace %q: still conflicting after %d attempts: %w",
			name, namespace, res.Conflicts, err)
	}
	if err != nil {
		return res, err
	}
	s.readYourWrites(ctx, &res)
	return res, nil
}

// permissionError returns err as a PermissionError of op in namespace when
// it is a Forbidden, else unchanged.
func permissionError(op, namespace string, err error) error {
	if apierrors.IsForbidden(err) {
		return &PermissionError{Op: op, Namespace: namespace, Err: err}
	}
	return err
}

// callFailed wraps the error of the get (update false) or update call of
// Scale. A call that got no answer from the API server, because kctx's
// deadline ran out or the connection failed, is KubeAPIUnavailable; a call
// cut short by ctx (the client went away, or shutdown) or answered with an
// error is wrapped naming the call.
func (s *Scaler) callFailed(ctx, kctx context.Context, namespace, name string, update bool, err error) error {
	verb := "get"
	if update {
		verb = "update"
	}
	var status apierrors.APIStatus
	switch {
	case errors.As(err, &status), ctx.Err() != nil:
	case kctx.Err() != nil:
		// Whatever the error says (client-go's rate limiter does not wrap
		// the deadline), the deadline is why the call ended.
		return KubeAPIUnavailable(namespace, name, update, s.apiTimeout, err)
	case IsNoAnswer(err):
		return KubeAPIUnavailable(namespace, name, update, 0, err)
	}
	return fmt.Errorf("%s deployments.apps/scale %q in namespace %q: %w", verb, name, namespace, err)
}

// readYourWrites waits for the cache to reach res.ResourceVersion. It does so
// after a no-op too: the count came from the API and the cache may not have
// caught up with it yet. A timeout is logged and flagged in res, not
// returned: the write happened, and failing the request would invite a
// needless retry.
func (s *Scaler) readYourWrites(ctx context.Context, res *ScaleResult) {
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, s.rywTimeout)
	defer cancel()
	d, err := s.cache.WaitForDeployment(wctx, res.Namespace, res.Name, res.ResourceVersion)
	res.ReadYourWritesWait = time.Since(start)
	if err != nil {
		res.ReadYourWritesTimedOut = true
		s.logger.Warn("deployment scaled, but the cache did not show it in time; reads may briefly show the old count",
			"namespace", res.Namespace, "name", res.Name, "replicas", res.Replicas,
			"resourceVersion", res.ResourceVersion, "waited", res.ReadYourWritesWait.String(), "error", err.Error())
		return
	}
	res.Deployment = d
}
