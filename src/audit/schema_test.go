package audit_test

import (
	"strings"
	"testing"

	"github.com/replicasd/replicasd/src/audit/audittest"
)

// TestSchemaRejectsBadEvents shows that the schema the other tests decode
// against has teeth.
func TestSchemaRejectsBadEvents(t *testing.T) {
	const good = `{"time":"2026-01-02T03:04:05.123Z","kind":"request","requestID":"r-1","remoteAddr":"192.0.2.7:40000",` +
		`"method":"PUT","path":"/api/v1/deployments/web/replicas","verb":"scale","namespace":"default","name":"web",` +
		`"replicas":{"before":2,"after":5},"resourceVersion":{"before":"10","after":"11"},` +
		`"outcome":{"status":200,"reason":"OK"},"latencySeconds":0.01}`
	const handshake = `{"time":"2026-01-02T03:04:05Z","kind":"tlsHandshake","requestID":"0123456789abcdef0123456789abcdef",` +
		`"remoteAddr":"192.0.2.7:40000","outcome":{"status":0,"reason":"expired","message":"x509: certificate has expired"}}`
	if _, err := audittest.Validate(t, []byte(good)); err != nil {
		t.Fatalf("the reference request event is refused: %v", err)
	}
	if _, err := audittest.Validate(t, []byte(handshake)); err != nil {
		t.Fatalf("the reference handshake event is refused: %v", err)
	}
	tests := []struct {
		name, line string
	}{
		{"unknown field", strings.Replace(good, `"kind"`, `"extra":1,"kind"`, 1)},
		{"missing time", strings.Replace(good, `"time":"2026-01-02T03:04:05.123Z",`, "", 1)},
		{"local time", strings.Replace(good, `05.123Z`, `05.123+02:00`, 1)},
		{"unknown kind", strings.Replace(good, `"request"`, `"login"`, 1)},
		{"request without latency", strings.Replace(good, `,"latencySeconds":0.01`, "", 1)},
		{"scale without name", strings.Replace(good, `"name":"web",`, "", 1)},
		{"unknown verb", strings.Replace(good, `"scale"`, `"delete"`, 1)},
		{"replicas as a string", strings.Replace(good, `"before":2`, `"before":"2"`, 1)},
		{"negative replicas", strings.Replace(good, `"after":5`, `"after":-5`, 1)},
		{"request ID with spaces", strings.Replace(good, `"r-1"`, `"r 1"`, 1)},
		{"outcome without reason", strings.Replace(good, `,"reason":"OK"`, "", 1)},
		{"handshake with an HTTP status", strings.Replace(handshake, `"status":0`, `"status":403`, 1)},
		{"handshake with an unknown reason", strings.Replace(handshake, `"expired"`, `"revoked"`, 1)},
		{"handshake with a verb", strings.Replace(handshake, `"kind"`, `"verb":"get","kind"`, 1)},
		{"client without serial", strings.Replace(handshake, `"remoteAddr"`, `"client":{"user":"a","groups":[],"issuer":"CN=x"},"remoteAddr"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := audittest.Validate(t, []byte(tt.line)); err == nil {
				t.Errorf("accepted %s", tt.line)
			}
		})
	}
}
