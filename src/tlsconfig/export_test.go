package tlsconfig

// Watching returns a channel closed once r.Run watches the files, so tests
// change them only after that.
func Watching(r *Reloader) <-chan struct{} { return r.watching }

// RotateTicketKeys rotates the session ticket keys now instead of daily.
func RotateTicketKeys(r *Reloader) { r.rotateTicketKeys() }
