package handshakes

import "strings"

// Reasons a handshake failed, the values of the tls_handshake_errors_total
// reason label and of the audit events' outcome reason.
const (
	// NoCertificate: the client sent no certificate.
	NoCertificate = "no_certificate"
	// UnknownAuthority: the client certificate does not chain to
	// --client-ca-file.
	UnknownAuthority = "unknown_authority"
	// Expired: the client certificate is expired or not yet valid.
	Expired = "expired"
	// BadUsage: the client certificate is not for client authentication
	// (extended key usage).
	BadUsage = "bad_usage"
	// Protocol: the client does not speak acceptable TLS: plain HTTP, an
	// old version, no common cipher suite, a malformed message.
	Protocol = "protocol"
	// Other: everything else, such as a client that hung up mid-handshake
	// (TCP probes, scanners) or that refused the server's certificate.
	Other = "other"
)

// Reasons lists every reason, in the order of the constants.
var Reasons = []string{NoCertificate, UnknownAuthority, Expired, BadUsage, Protocol, Other}

// certificateAlerts are the TLS alerts a client sends when it refuses the
// server's certificate; they arrive as "remote error: tls: <alert>".
var certificateAlerts = []string{
	"bad certificate", "unsupported certificate", "certificate revoked", "certificate expired",
	"certificate unknown", "unknown certificate authority", "certificate required",
}

// Classify returns the reason for the error message of a failed handshake,
// as crypto/tls, x509 and tlsconfig word them.
//
// It reads words because net/http passes the Watcher only the text of the
// handshake's error, not the error: x509.UnknownAuthorityError,
// x509.CertificateInvalidError and tls.RecordHeaderError are typed, but out
// of reach here, and a received alert is not even typed (tls.AlertError is
// for QUIC only). TestClassifyGoErrorTexts provokes each failure against a
// real crypto/tls server and fails when Go rewords one of these texts.
func Classify(msg string) string {
	if remote, ok := strings.CutPrefix(msg, "remote error: tls: "); ok {
		// The client's complaint, not ours: about our certificate, or
		// about the protocol.
		for _, a := range certificateAlerts {
			if strings.HasPrefix(remote, a) {
				return Other
			}
		}
		return Protocol
	}
	switch {
	case strings.Contains(msg, "didn't provide a certificate"),
		strings.Contains(msg, "client certificate required"):
		return NoCertificate
	case strings.Contains(msg, "incompatible key usage"),
		strings.Contains(msg, "clientAuth extended key usage"):
		return BadUsage
	case strings.Contains(msg, "has expired or is not yet valid"):
		return Expired
	case strings.Contains(msg, "signed by unknown authority"):
		return UnknownAuthority
	case strings.Contains(msg, "HTTP request to an HTTPS server"),
		strings.Contains(msg, "does not look like a TLS handshake"),
		strings.Contains(msg, "unsupported versions"),
		strings.Contains(msg, "no cipher suite supported"),
		strings.Contains(msg, "unsupported SSLv2"),
		strings.Contains(msg, "no application protocol"),
		strings.Contains(msg, "unexpected message"),
		strings.Contains(msg, "bad record MAC"),
		strings.Contains(msg, "oversized record"),
		strings.Contains(msg, "no mutually supported"),
		strings.Contains(msg, "no ECDHE curve supported"):
		return Protocol
	}
	return Other
}
