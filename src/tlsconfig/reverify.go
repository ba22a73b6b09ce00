package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Reasons a request on an open connection is refused by [Reloader.Reverify],
// passed to the [WithOnRefused] hook. They match the handshakes package's
// reasons where both exist.
const (
	RefusedRevoked          = "revoked"
	RefusedUnknownAuthority = "unknown_authority"
	RefusedExpired          = "expired"
)

// RefusalReasons lists every reason, in the order of the constants.
var RefusalReasons = []string{RefusedRevoked, RefusedUnknownAuthority, RefusedExpired}

// WithOnRefused sets a hook called each time [Reloader.Reverify] refuses a
// request, with one of [RefusalReasons]; for example to count refusals in a
// metric. It runs on the request's goroutine and must not block.
func WithOnRefused(hook func(reason string)) Option {
	return func(r *Reloader) {
		if hook != nil {
			r.onRefused = hook
		}
	}
}

// refusal is why a client's certificates do not verify against a material
// set.
type refusal struct {
	reason  string // one of RefusalReasons
	message string // for the client
	err     error  // the detail, for logs
}

func (e *refusal) Error() string { return "tlsconfig: " + e.err.Error() }

// verdict is what one connection's client certificates verified to against
// one material set. Each connection caches its latest in its context.
type verdict struct {
	material *material
	// recheckAt is the Unix time in seconds after which a certificate of
	// the verified chains has expired (their NotAfter is in seconds), so
	// the verdict must be made again; zero until known.
	recheckAt int64
	refused   *refusal // nil: the certificates verify
}

// Reverify guards the connections that were open before a reload or before
// their client certificate expired: the handshake's checks cannot reach
// them, and a client that keeps its connection busy would otherwise be
// served forever. A request is let through when its connection's verdict
// (see [Reloader.ConnContext]) was made against the current files and no
// certificate of the chain has expired since: a few atomic loads and two
// comparisons, the time being the clock [Reloader.Run] keeps (a second
// late at most). Otherwise the client's chain is verified again against the
// current CA bundle, CRLs and time, and the verdict kept for the
// connection's next requests. A refused request is answered 403 with the
// error envelope naming why, counted through [WithOnRefused], and its
// connection is closed (HTTP/1.1 "Connection: close"; HTTP/2 a GOAWAY), so
// the client's next attempt is a handshake, which is refused.
//
// Without ConnContext every request is verified in full.
func (r *Reloader) Reverify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// identity.Middleware answers requests without a verified certificate.
		if req.TLS != nil && len(req.TLS.PeerCertificates) > 0 {
			if ref := r.reverify(req); ref != nil {
				r.refuse(w, req, ref)
				return
			}
		}
		next.ServeHTTP(w, req)
	})
}

func (r *Reloader) reverify(req *http.Request) *refusal {
	cur := r.gen.Load().material
	ci := connVerdictFrom(req.Context())
	var prev *verdict
	if ci != nil {
		prev = ci.verdict.Load()
		if prev != nil && prev.material == cur && prev.refused == nil && r.unixNow() <= prev.recheckAt {
			return nil
		}
	}
	v := r.verdictFor(req.TLS, cur, prev)
	if ci != nil {
		ci.verdict.Store(v)
	}
	return v.refused
}

// verdictFor makes the verdict on cs against cur, reusing prev where it
// still holds.
func (r *Reloader) verdictFor(cs *tls.ConnectionState, cur *material, prev *verdict) *verdict {
	now := r.now()
	if prev != nil && prev.material == cur {
		if prev.refused != nil {
			return prev
		}
		// Noted by ConnContext: this connection's handshake verified its
		// chains against cur; only their expiry is new.
		if prev.recheckAt == 0 {
			if at := chainsExpiry(cs.VerifiedChains); !now.After(at) {
				return &verdict{material: cur, recheckAt: at.Unix()}
			}
		}
	}
	r.verifications.Add(1)
	at, ref := cur.check(cs.PeerCertificates, nil, now)
	return &verdict{material: cur, recheckAt: at.Unix(), refused: ref}
}

// unixNow is the clock Run keeps, or without Run the time now.
func (r *Reloader) unixNow() int64 {
	if now := r.clock.Load(); now != 0 {
		return now
	}
	return r.now().Unix()
}

// refuse answers a request whose client certificates no longer verify.
func (r *Reloader) refuse(w http.ResponseWriter, req *http.Request, ref *refusal) {
	r.onRefused(ref.reason)
	leaf := req.TLS.PeerCertificates[0]
	r.logger.Warn("refused a request on an open connection: its client certificate no longer verifies",
		"reason", ref.reason, "error", ref.err.Error(), "remoteAddr", req.RemoteAddr,
		"subject", leaf.Subject.String(), "serial", serialKey(leaf.SerialNumber))
	h := w.Header()
	// HTTP/1.1 closes the connection after this answer; Go's HTTP/2 server
	// sends GOAWAY and closes it once its streams are done.
	h.Set("Connection", "close")
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": ref.message})
}

// check verifies a client's certificates against m at now, as a handshake
// with m's files would: chain to a CA of the bundle, validity, revocation.
// When chains is set, they were verified already and are checked only for
// revocation. It returns when the chains stop being valid, or why the
// certificates are refused.
func (m *material) check(peers []*x509.Certificate, chains [][]*x509.Certificate, now time.Time) (time.Time, *refusal) {
	if len(chains) == 0 {
		var ref *refusal
		if chains, ref = m.verifyChains(peers, now); ref != nil {
			return time.Time{}, ref
		}
	}
	if c := m.revocations.revokedIn(chains); c != nil {
		return time.Time{}, &refusal{
			reason:  RefusedRevoked,
			message: "the client certificate has been revoked",
			err:     fmt.Errorf("client certificate %q (serial %s) is revoked by the client CRL", c.Subject, serialKey(c.SerialNumber)),
		}
	}
	return chainsExpiry(chains), nil
}

// verifyChains verifies peers, the leaf first, against m's CA bundle at now.
func (m *material) verifyChains(peers []*x509.Certificate, now time.Time) ([][]*x509.Certificate, *refusal) {
	inter := x509.NewCertPool()
	for _, c := range peers[1:] {
		inter.AddCert(c)
	}
	chains, err := peers[0].Verify(x509.VerifyOptions{
		Roots:         m.clientCAs,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	var invalid x509.CertificateInvalidError
	switch {
	case err == nil:
		return chains, nil
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired && invalid.Cert == peers[0]:
		return nil, &refusal{reason: RefusedExpired, message: "the client certificate has expired", err: err}
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return nil, &refusal{reason: RefusedExpired, message: "a CA certificate of the client certificate's chain has expired", err: err}
	default:
		return nil, &refusal{reason: RefusedUnknownAuthority, message: "the client certificate's CA is no longer trusted", err: err}
	}
}

// chainsExpiry returns when the last of the chains to stay valid stops
// being valid: the earliest NotAfter of its certificates.
func chainsExpiry(chains [][]*x509.Certificate) time.Time {
	var last time.Time
	for _, chain := range chains {
		first := earliestExpiry(chain)
		if first.After(last) {
			last = first
		}
	}
	return last
}
