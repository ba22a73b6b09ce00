// Package filewatch calls a reload function when files may have changed. It
// is the watching half of every hot-reloaded file in replicasd (the TLS
// certificates, the client CA and CRLs, the authorization policy). [Run]
// only watches; [Reloader] also keeps the last good content, so each caller
// writes only how to read, parse and install its files.
package filewatch

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Config says what to watch and how.
type Config struct {
	// Files are the paths whose change triggers a reload.
	Files []string
	// PollInterval is how often reload runs anyway, in case a file system
	// event was missed; zero or negative disables polling.
	PollInterval time.Duration
	// Debounce is how long to wait after the last event before reloading,
	// so the files of one update are read together.
	Debounce time.Duration
	// What names the files in log lines, for example "TLS files".
	What string
	// Logger receives warnings and debug lines; nil discards.
	Logger *slog.Logger
}

// Run watches until ctx is done, calling reload after debounced file system
// events and at every poll. It calls reload once more after the watch is set
// up, to catch changes made before, then ready (if not nil). reload runs on
// Run's goroutine and is expected to be cheap when nothing changed (compare a
// digest of the contents).
//
// It watches the parent directories, not the files: a Kubernetes Secret or
// ConfigMap mount replaces its files by atomically swapping the ..data
// symlink, which never touches the watched names themselves, and editors and
// `mv` replace a file's inode, which a watch on the file would lose. A file
// system without inotify falls back to polling.
func Run(ctx context.Context, cfg Config, reload func(), ready func()) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	if w, err := fsnotify.NewWatcher(); err != nil {
		log.Warn("cannot watch the "+cfg.What+"; relying on polling", "error", err, "interval", cfg.PollInterval)
	} else {
		defer func() { _ = w.Close() }()
		for _, dir := range Dirs(cfg.Files) {
			if err := w.Add(dir); err != nil {
				log.Warn("cannot watch a directory of the "+cfg.What+"; relying on polling", "dir", dir, "error", err, "interval", cfg.PollInterval)
			}
		}
		events, watchErrs = w.Events, w.Errors
	}
	reload()
	if ready != nil {
		ready()
	}

	var poll <-chan time.Time
	if cfg.PollInterval > 0 {
		t := time.NewTicker(cfg.PollInterval)
		defer t.Stop()
		poll = t.C
	}
	debounce := time.NewTimer(cfg.Debounce)
	debounce.Stop()
	defer debounce.Stop()

	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			// Not logged: other files in the directory (a log file, say)
			// change too, and logging them could feed on itself. A reload
			// logs only when the watched files' contents changed.
			_ = ev
			debounce.Reset(cfg.Debounce)
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			// Usually an overflowed event queue: a reload catches up.
			log.Warn("watching the "+cfg.What, "error", err)
			debounce.Reset(cfg.Debounce)
		case <-debounce.C:
			reload()
		case <-poll:
			reload()
		}
	}
}

// Dirs returns the distinct parent directories of files, in order; empty
// paths are skipped.
func Dirs(files []string) []string {
	var dirs []string
	for _, f := range files {
		if f == "" {
			continue
		}
		if d := filepath.Dir(f); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}
