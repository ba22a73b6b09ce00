package authz

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/replicasd/replicasd/src/filewatch"
	"github.com/replicasd/replicasd/src/identity"
)

// Results passed to the OnReload hook, as tlsconfig's.
const (
	ReloadSuccess = filewatch.ReloadSuccess
	ReloadFailure = filewatch.ReloadFailure
)

// Defaults for the file watcher, see [WithPollInterval] and [WithDebounce].
const (
	DefaultPollInterval = filewatch.DefaultPollInterval
	DefaultDebounce     = filewatch.DefaultDebounce
)

// Authorizer serves the policy of one file and replaces it when the file
// changes. It is safe for concurrent use; each decision uses the policy
// current when it is made.
type Authorizer struct {
	file   string
	logger *slog.Logger
	// files keeps the last good policy; decisions only read policy.
	files  filewatch.Reloader[*Policy]
	policy atomic.Pointer[Policy]
}

// Option configures an [Authorizer].
type Option func(*filewatch.Settings)

// WithOnReload sets a hook called after each reload attempt that found a
// changed file, with [ReloadSuccess] or [ReloadFailure]. It runs
// synchronously during the reload and must not block.
func WithOnReload(hook func(result string)) Option {
	return func(s *filewatch.Settings) { s.SetOnReload(hook) }
}

// WithPollInterval sets how often [Authorizer.Run] re-reads the file in case
// a file system event was missed. Zero or negative disables polling.
func WithPollInterval(d time.Duration) Option {
	return func(s *filewatch.Settings) { s.PollInterval = d }
}

// WithDebounce sets how long [Authorizer.Run] waits after the last file
// system event before reloading.
func WithDebounce(d time.Duration) Option {
	return func(s *filewatch.Settings) { s.Debounce = d }
}

// New loads the policy file once and returns an Authorizer serving it. It
// fails when the file is missing or invalid: the server must not start with
// a policy other than the one its operator wrote. A nil logger discards logs.
func New(file string, logger *slog.Logger, opts ...Option) (*Authorizer, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &Authorizer{file: file, logger: logger}
	a.files.Settings = filewatch.DefaultSettings()
	for _, opt := range opts {
		opt(&a.files.Settings)
	}
	a.files.Read = a.read
	a.files.Install = a.install
	a.files.Failed = func(err error) {
		a.logger.Error("reloading the authorization policy failed; keeping the last good policy", "file", a.file, "error", err)
	}
	if err := a.files.Load(); err != nil {
		return nil, err
	}
	return a, nil
}

// read reads the policy file; its digest covers a read error's text, so a
// file that stays missing is reported once.
func (a *Authorizer) read() ([32]byte, func() (*Policy, error)) {
	data, err := readFile(a.file)
	if err != nil {
		return sha256.Sum256([]byte("error: " + err.Error())), func() (*Policy, error) { return nil, err }
	}
	return sha256.Sum256(data), func() (*Policy, error) {
		p, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("authorization policy %s: %w", a.file, err)
		}
		return p, nil
	}
}

// install makes p the policy in force.
func (a *Authorizer) install(p *Policy, _ [32]byte, initial bool) {
	a.policy.Store(p)
	msg := "reloaded authorization policy"
	if initial {
		msg = "loaded authorization policy"
	}
	a.logger.Info(msg, "file", a.file, "rules", len(p.Rules))
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
func (a *Authorizer) Reload() error { return a.files.Reload() }

// Run watches the policy file and reloads it when it changes, until ctx is
// done; it then returns nil. See [filewatch.Run] for how it watches.
func (a *Authorizer) Run(ctx context.Context) error {
	a.files.Run(ctx, filewatch.Config{
		Files:  []string{a.file},
		What:   "authorization policy",
		Logger: a.logger,
	})
	return nil
}

// Watching returns a channel closed once [Authorizer.Run] watches the file,
// so callers (tests) change it only after that.
func (a *Authorizer) Watching() <-chan struct{} { return a.files.Watching() }
