package authz

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/replicasd/replicasd/src/filewatch"
	"github.com/replicasd/replicasd/src/identity"
)

// Results passed to the OnReload hook, as tlsconfig's.
const (
	ReloadSuccess = "success"
	ReloadFailure = "failure"
)

// Defaults for the file watcher, see [WithPollInterval] and [WithDebounce].
const (
	DefaultPollInterval = 30 * time.Second
	DefaultDebounce     = 200 * time.Millisecond
)

// Authorizer serves the policy of one file and replaces it when the file
// changes. It is safe for concurrent use; each decision uses the policy
// current when it is made.
type Authorizer struct {
	file         string
	logger       *slog.Logger
	onReload     func(result string)
	pollInterval time.Duration
	debounce     time.Duration
	watching     chan struct{}
	watchOnce    sync.Once

	// mu serialises reloads; decisions only read policy.
	mu     sync.Mutex
	policy atomic.Pointer[Policy]
	digest [sha256.Size]byte
	// failed is the digest of the last content that failed to load, so a
	// file that stays broken is reported once, not at every poll.
	failed    [sha256.Size]byte
	failedErr error
}

// Option configures an [Authorizer].
type Option func(*Authorizer)

// WithOnReload sets a hook called after each reload attempt that found a
// changed file, with [ReloadSuccess] or [ReloadFailure]. It runs
// synchronously during the reload and must not block.
func WithOnReload(hook func(result string)) Option {
	return func(a *Authorizer) {
		if hook != nil {
			a.onReload = hook
		}
	}
}

// WithPollInterval sets how often [Authorizer.Run] re-reads the file in case
// a file system event was missed. Zero or negative disables polling.
func WithPollInterval(d time.Duration) Option {
	return func(a *Authorizer) { a.pollInterval = d }
}

// WithDebounce sets how long [Authorizer.Run] waits after the last file
// system event before reloading.
func WithDebounce(d time.Duration) Option {
	return func(a *Authorizer) { a.debounce = d }
}

// New loads the policy file once and returns an Authorizer serving it. It
// fails when the file is missing or invalid: the server must not start with
// a policy other than the one its operator wrote. A nil logger discards logs.
func New(file string, logger *slog.Logger, opts ...Option) (*Authorizer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Authorizer{
		file:         file,
		logger:       logger,
		onReload:     func(string) {},
		pollInterval: DefaultPollInterval,
		debounce:     DefaultDebounce,
		watching:     make(chan struct{}),
	}
	for _, opt := range opts {
		opt(a)
	}
	data, err := readFile(file)
	if err != nil {
		return nil, err
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("authorization policy %s: %w", file, err)
	}
	a.policy.Store(p)
	a.digest = sha256.Sum256(data)
	a.logger.Info("loaded authorization policy", "file", file, "rules", len(p.Rules))
	return a, nil
}

// Policy returns the policy in force.
func (a *Authorizer) Policy() *Policy { return a.policy.Load() }

// Authorize is [Policy.Authorize] under the current policy.
func (a *Authorizer) Authorize(id identity.Identity, verb, namespace, name string) error {
	return a.Policy().Authorize(id, verb, namespace, name)
}

// AuthorizeReplicas is [Policy.AuthorizeReplicas] under the current policy.
func (a *Authorizer) AuthorizeReplicas(id identity.Identity, namespace, name string, replicas int32) error {
	return a.Policy().AuthorizeReplicas(id, namespace, name, replicas)
}

// ListFilter is [Policy.ListFilter] under the current policy.
func (a *Authorizer) ListFilter(id identity.Identity, namespace string) func(namespace, name string) bool {
	return a.Policy().ListFilter(id, namespace)
}

// Reload re-reads the file now; [Authorizer.Run] calls it when the file
// changes. An unchanged file is a no-op. A file that fails to load leaves
// the current policy in place, is logged once and returned as an error.
func (a *Authorizer) Reload() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	data, err := readFile(a.file)
	var digest [sha256.Size]byte
	if err != nil {
		digest = sha256.Sum256([]byte("error: " + err.Error()))
	} else {
		digest = sha256.Sum256(data)
	}
	switch digest {
	case a.digest:
		// Back to the good policy: breaking it the same way again is news.
		a.failed, a.failedErr = [sha256.Size]byte{}, nil
		return nil
	case a.failed:
		return a.failedErr
	}
	var p *Policy
	if err == nil {
		p, err = Parse(data)
		if err != nil {
			err = fmt.Errorf("authorization policy %s: %w", a.file, err)
		}
	}
	if err != nil {
		a.failed, a.failedErr = digest, err
		a.logger.Error("reloading the authorization policy failed; keeping the last good policy", "file", a.file, "error", err)
		a.onReload(ReloadFailure)
		return err
	}
	a.failed, a.failedErr = [sha256.Size]byte{}, nil
	a.policy.Store(p)
	a.digest = digest
	a.logger.Info("reloaded authorization policy", "file", a.file, "rules", len(p.Rules))
	a.onReload(ReloadSuccess)
	return nil
}

// Run watches the policy file and reloads it when it changes, until ctx is
// done; it then returns nil. See [filewatch.Run] for how it watches.
func (a *Authorizer) Run(ctx context.Context) error {
	filewatch.Run(ctx, filewatch.Config{
		Files:        []string{a.file},
		PollInterval: a.pollInterval,
		Debounce:     a.debounce,
		What:         "authorization policy",
		Logger:       a.logger,
	},
		// Errors are logged and reported by Reload.
		func() { _ = a.Reload() },
		func() { a.watchOnce.Do(func() { close(a.watching) }) })
	return nil
}

// Watching returns a channel closed once [Authorizer.Run] watches the file,
// so callers (tests) change it only after that.
func (a *Authorizer) Watching() <-chan struct{} { return a.watching }
