package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Stdout is the --audit-log-path that means standard output.
const Stdout = "-"

// FormatJSON is the only --audit-log-format: one JSON object per line.
const FormatJSON = "json"

// DefaultMaxBuffer bounds the events waiting to be written, in bytes. When
// the stream cannot keep up for that long, further events are dropped and
// counted rather than slowing requests down.
const DefaultMaxBuffer = 8 << 20

// dropLogInterval bounds how often dropped events are logged.
const dropLogInterval = 10 * time.Second

// Options configures a Logger.
type Options struct {
	// Reads also audits successful reads (--audit-reads); writes and
	// refused requests are always audited.
	Reads bool
	// MaxBuffer bounds the bytes waiting to be written; zero means
	// DefaultMaxBuffer.
	MaxBuffer int
	// OnDrop is called for each event dropped because the buffer was full
	// or the stream failed; for a metric.
	OnDrop func()
	// OnPanic is called for each request whose handler panicked (see
	// Middleware); for a metric.
	OnPanic func()
	// Logger receives the Logger's own problems (the stream failing) and
	// the panics Middleware recovers. Nil discards them.
	Logger *slog.Logger
}

// Logger writes audit events as JSON lines. Log only appends to a buffer;
// a goroutine writes the buffer out, so a slow disk or a blocked stdout never
// holds a request up. It is safe for concurrent use.
type Logger struct {
	out    io.Writer
	closer io.Closer // nil for stdout and writers Open was not asked to close
	opts   Options
	drops  *rate.Limiter

	mu      sync.Mutex
	cond    *sync.Cond // signalled when a write finishes or the writer stops
	buf     []byte     // pending lines
	spare   []byte     // the other buffer, reused
	seq     uint64     // events accepted so far
	written uint64     // events written (or lost to a write error) so far
	wake    chan struct{}
	closing bool
	done    chan struct{}
}

// Open returns a Logger writing to path: a file, created with mode 0600
// and appended to, or Stdout.
func Open(path string, opts Options) (*Logger, error) {
	if path == Stdout {
		return New(os.Stdout, nil, opts), nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600) // #nosec G304 -- the operator names the audit log with --audit-log-path
	if err != nil {
		return nil, fmt.Errorf("opening the audit log: %w", err)
	}
	return New(f, f, opts), nil
}

// New returns a Logger writing to out; Close closes closer when it is not
// nil.
func New(out io.Writer, closer io.Closer, opts Options) *Logger {
	if opts.MaxBuffer <= 0 {
		opts.MaxBuffer = DefaultMaxBuffer
	}
	if opts.OnDrop == nil {
		opts.OnDrop = func() {}
	}
	if opts.OnPanic == nil {
		opts.OnPanic = func() {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Logger{
		out: out, closer: closer, opts: opts,
		drops: rate.NewLimiter(rate.Every(dropLogInterval), 1),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	l.cond = sync.NewCond(&l.mu)
	go l.run()
	return l
}

// Reads reports whether successful reads are audited.
func (l *Logger) Reads() bool { return l.opts.Reads }

// Log queues ev for writing. It never blocks on the stream: when too much
// is already waiting, ev is dropped and counted.
func (l *Logger) Log(ev *Event) {
	ev.Time = ev.Time.UTC()
	line, err := json.Marshal(ev)
	if err != nil {
		// Only our own struct of strings and numbers gets here.
		l.dropped("encoding an audit event failed", err)
		return
	}
	l.mu.Lock()
	if l.closing || len(l.buf)+len(line)+1 > l.opts.MaxBuffer {
		l.mu.Unlock()
		l.dropped("the audit stream is not keeping up; dropping events", nil)
		return
	}
	l.buf = append(l.buf, line...)
	l.buf = append(l.buf, '\n')
	l.seq++
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

func (l *Logger) dropped(msg string, err error) {
	l.opts.OnDrop()
	if l.drops.Allow() {
		attrs := []any{}
		if err != nil {
			attrs = append(attrs, "error", err.Error())
		}
		l.opts.Logger.Error(msg, attrs...)
	}
}

// run writes the buffer out whenever Log adds to it, until Close.
func (l *Logger) run() {
	defer close(l.done)
	for {
		l.mu.Lock()
		for len(l.buf) == 0 && !l.closing {
			l.mu.Unlock()
			<-l.wake
			l.mu.Lock()
		}
		if len(l.buf) == 0 { // closing, and everything is written
			l.cond.Broadcast()
			l.mu.Unlock()
			return
		}
		out, n := l.buf, l.seq
		l.buf, l.spare = l.spare[:0], nil
		l.mu.Unlock()

		if _, err := l.out.Write(out); err != nil {
			lost := n - l.writtenSoFar()
			for range lost {
				l.opts.OnDrop()
			}
			if l.drops.Allow() {
				l.opts.Logger.Error("writing audit events failed", "error", err.Error(), "events", lost)
			}
		}

		l.mu.Lock()
		l.spare = out[:0]
		l.written = n
		l.cond.Broadcast()
		l.mu.Unlock()
	}
}

func (l *Logger) writtenSoFar() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.written
}

// Flush waits until every event logged before it has been written.
func (l *Logger) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	target := l.seq
	for l.written < target {
		select {
		case <-l.done:
			return
		default:
		}
		l.cond.Wait()
	}
}

// Close writes what is pending, stops the writer and closes the file; later
// events are dropped.
func (l *Logger) Close() error {
	l.mu.Lock()
	already := l.closing
	l.closing = true
	l.mu.Unlock()
	if already {
		<-l.done
		return nil
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
	<-l.done
	if l.closer != nil {
		return l.closer.Close()
	}
	return nil
}
