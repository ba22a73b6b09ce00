package filewatch

import (
	"context"
	"sync"
	"time"
)

// Results passed to an OnReload hook.
const (
	ReloadSuccess = "success"
	ReloadFailure = "failure"
)

// Defaults for [Settings], see [DefaultSettings].
const (
	DefaultPollInterval = 30 * time.Second
	DefaultDebounce     = 200 * time.Millisecond
)

// Settings are what every hot-reloaded file set lets its caller tune; each
// package's With* options set them.
type Settings struct {
	// OnReload is called after each reload attempt that found changed
	// files, with [ReloadSuccess] or [ReloadFailure]. It runs synchronously
	// during the reload and must not block. Never nil.
	OnReload func(result string)
	// PollInterval and Debounce are as in [Config].
	PollInterval time.Duration
	Debounce     time.Duration
}

// DefaultSettings returns the settings used when no option changes them.
func DefaultSettings() Settings {
	return Settings{OnReload: func(string) {}, PollInterval: DefaultPollInterval, Debounce: DefaultDebounce}
}

// SetOnReload sets s.OnReload unless hook is nil.
func (s *Settings) SetOnReload(hook func(result string)) {
	if hook != nil {
		s.OnReload = hook
	}
}

// Reloader keeps the last good content of a set of files: it reloads on
// change, keeps the current content when the new one fails to parse, and
// remembers the digest of the failed content so files that stay broken are
// reported once, not at every poll. The caller supplies only how to read,
// parse and install the content.
type Reloader[T any] struct {
	// Settings are the shared options; set them before Load.
	Settings
	// Read reads the files and returns a digest of their contents (of the
	// read error, if any) and a function that parses what was read. It must
	// be cheap: it runs at every poll.
	Read func() (digest [32]byte, parse func() (T, error))
	// Install makes v current. It runs with the lock held, after a
	// successful parse; initial is true for [Reloader.Load].
	Install func(v T, digest [32]byte, initial bool)
	// Failed logs a reload that failed; the last good content stays.
	Failed func(err error)

	mu        sync.Mutex
	digest    [32]byte
	failed    [32]byte
	failedErr error
	watching  chan struct{}
	makeOnce  sync.Once
	watchOnce sync.Once
}

// Load reads, parses and installs the files once, without calling OnReload;
// the caller fails to start on its error.
func (r *Reloader[T]) Load() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	digest, parse := r.Read()
	v, err := parse()
	if err != nil {
		return err
	}
	r.digest = digest
	r.Install(v, digest, true)
	return nil
}

// Reload re-reads the files now. Unchanged files are a no-op. Files that fail
// to load leave the current content in place, are reported once through
// Failed and OnReload, and are returned as an error.
func (r *Reloader[T]) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	digest, parse := r.Read()
	switch digest {
	case r.digest:
		// Back to the good content: breaking it the same way again is news.
		r.failed, r.failedErr = [32]byte{}, nil
		return nil
	case r.failed:
		return r.failedErr
	}
	v, err := parse()
	if err != nil {
		r.failed, r.failedErr = digest, err
		r.Failed(err)
		r.OnReload(ReloadFailure)
		return err
	}
	r.failed, r.failedErr = [32]byte{}, nil
	r.digest = digest
	r.Install(v, digest, false)
	r.OnReload(ReloadSuccess)
	return nil
}

// Locked runs f with the reload lock held, for changes that must not
// interleave with a reload.
func (r *Reloader[T]) Locked(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

// Run watches cfg.Files with [Run] and reloads them when they change, until
// ctx is done. cfg's PollInterval and Debounce are taken from the Settings.
func (r *Reloader[T]) Run(ctx context.Context, cfg Config) {
	cfg.PollInterval, cfg.Debounce = r.PollInterval, r.Debounce
	watching := r.watchingChan()
	Run(ctx, cfg,
		// Errors are logged and reported by Reload.
		func() { _ = r.Reload() },
		func() { r.watchOnce.Do(func() { close(watching) }) })
}

// Watching returns a channel closed once [Reloader.Run] watches the files,
// so callers (tests) change them only after that.
func (r *Reloader[T]) Watching() <-chan struct{} {
	return r.watchingChan()
}

func (r *Reloader[T]) watchingChan() chan struct{} {
	r.makeOnce.Do(func() { r.watching = make(chan struct{}) })
	return r.watching
}
