package audit

import "github.com/replicasd/replicasd/src/handshakes"

// LogHandshake writes the event of a failed TLS handshake.
func (l *Logger) LogHandshake(f handshakes.Failure) {
	l.Log(&Event{
		Time:       f.Time,
		Kind:       KindTLSHandshake,
		RequestID:  NewRequestID(),
		Client:     f.Client,
		RemoteAddr: f.RemoteAddr,
		Outcome:    Outcome{Reason: f.Reason, Message: f.Error},
	})
}
