package tlsconfig

import (
	"context"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Run watches the files and reloads them when they change, and rotates the
// session ticket keys daily, until ctx is done; it then returns nil.
//
// It watches the parent directories, not the files: a Kubernetes Secret
// mount replaces its files by atomically swapping the ..data symlink, which
// never touches the watched names themselves, and editors and `mv` replace a
// file's inode, which a watch on the file would lose. Events are debounced,
// and a periodic re-read covers file systems without inotify. Unchanged
// contents cost a read and a hash, never a reload.
func (r *Reloader) Run(ctx context.Context) error {
	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	if w, err := fsnotify.NewWatcher(); err != nil {
		r.logger.Warn("cannot watch the TLS files; relying on polling", "error", err, "interval", r.pollInterval)
	} else {
		defer func() { _ = w.Close() }()
		for _, dir := range r.dirs() {
			if err := w.Add(dir); err != nil {
				r.logger.Warn("cannot watch a TLS file directory; relying on polling", "dir", dir, "error", err, "interval", r.pollInterval)
			}
		}
		events, watchErrs = w.Events, w.Errors
	}
	// Catch changes made between New and the watch starting.
	_ = r.Reload()
	r.watchOnce.Do(func() { close(r.watching) })

	var poll <-chan time.Time
	if r.pollInterval > 0 {
		t := time.NewTicker(r.pollInterval)
		defer t.Stop()
		poll = t.C
	}
	rotate := time.NewTicker(ticketKeyRotation)
	defer rotate.Stop()
	debounce := time.NewTimer(r.debounce)
	debounce.Stop()
	defer debounce.Stop()

	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			r.logger.Debug("TLS file directory changed", "event", ev.String())
			debounce.Reset(r.debounce)
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			// Usually an overflowed event queue: a reload catches up.
			r.logger.Warn("watching the TLS files", "error", err)
			debounce.Reset(r.debounce)
		case <-debounce.C:
			// Errors are logged and reported by Reload.
			_ = r.Reload()
		case <-poll:
			_ = r.Reload()
		case <-rotate.C:
			r.rotateTicketKeys()
		}
	}
}

// dirs returns the distinct directories holding the files.
func (r *Reloader) dirs() []string {
	var dirs []string
	for _, f := range []string{r.cfg.CertFile, r.cfg.KeyFile, r.cfg.ClientCAFile} {
		if d := filepath.Dir(f); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}
