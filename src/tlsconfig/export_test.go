package tlsconfig

import "time"

// Watching returns a channel closed once r.Run watches the files, so tests
// change them only after that.
func Watching(r *Reloader) <-chan struct{} { return r.files.Watching() }

// RotateTicketKeys rotates the session ticket keys now instead of daily.
func RotateTicketKeys(r *Reloader) { r.rotateTicketKeys() }

// ReloadKeepingTicketKeys reloads the files as Reload does but keeps the
// session ticket keys, so a test can show that resumed sessions are checked
// against the new files even when their tickets still decrypt.
func ReloadKeepingTicketKeys(r *Reloader) error {
	var err error
	r.files.Locked(func() {
		snap := readSnapshot(r.cfg)
		var m *material
		if m, err = snap.parse(r.cfg); err == nil {
			r.install(m, snap.digest, r.gen.Load().ticketKeys)
		}
	})
	return err
}

// WithClock makes the Reloader, and the handshakes it configures, read the
// time from now, so a test can let a certificate expire.
func WithClock(now func() time.Time) Option { return func(r *Reloader) { r.now = now } }

// Verifications counts the chain verifications Reverify made.
func Verifications(r *Reloader) int64 { return r.verifications.Load() }

// WithClockTick sets how often Run updates the clock Reverify reads.
func WithClockTick(d time.Duration) Option { return func(r *Reloader) { r.clockTick = d } }
