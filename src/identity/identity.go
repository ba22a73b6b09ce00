package identity

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"strings"
)

// Identity is who a verified client certificate names, read the way
// Kubernetes' x509 authentication reads it: the subject's CN is the user and
// its O values are the groups.
type Identity struct {
	User   string   `json:"user"`
	Groups []string `json:"groups"`
	// Serial is the certificate's serial number in lower-case hex, for
	// audit logs.
	Serial string `json:"serial"`
	// Issuer is the issuer's distinguished name.
	Issuer string `json:"issuer"`
}

// FromCertificate reads the identity of a client certificate. It does
// not verify the certificate.
func FromCertificate(c *x509.Certificate) Identity {
	id := Identity{
		User:   c.Subject.CommonName,
		Groups: append([]string{}, c.Subject.Organization...),
		Issuer: c.Issuer.String(),
	}
	if c.SerialNumber != nil {
		id.Serial = c.SerialNumber.Text(16)
	}
	return id
}

// String formats the identity as a distinguished name, user first:
// "CN=bob,O=dev,O=sre". Special characters are escaped as in RFC 4514.
func (id Identity) String() string {
	var b strings.Builder
	b.WriteString("CN=")
	b.WriteString(escapeDNValue(id.User))
	for _, g := range id.Groups {
		b.WriteString(",O=")
		b.WriteString(escapeDNValue(g))
	}
	return b.String()
}

// escapeDNValue escapes an attribute value as RFC 4514 section 2.4 asks, so a
// group named "a,O=b" cannot pass for two groups in a log line.
func escapeDNValue(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case strings.ContainsRune(`,+"\<>;=`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(v)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

type identityKey struct{}

// With returns a context carrying id.
func With(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// From returns the identity [With] or [Middleware] stored in ctx, or else
// the one of the connection's verified client certificate when the server
// set [ConnContext].
func From(ctx context.Context) (Identity, bool) {
	if id, ok := ctx.Value(identityKey{}).(Identity); ok {
		return id, true
	}
	if ci, ok := connFrom(ctx); ok {
		if r, ok := ci.get(); ok {
			return r.id, true
		}
	}
	return Identity{}, false
}

// Key returns the String form of the client's identity in ctx, which
// limits are keyed by. With [ConnContext] set it is built once per
// connection, not on every request.
func Key(ctx context.Context) (string, bool) {
	if id, ok := ctx.Value(identityKey{}).(Identity); ok {
		return id.String(), true
	}
	if ci, ok := connFrom(ctx); ok {
		if r, ok := ci.get(); ok {
			return r.key, true
		}
	}
	return "", false
}

// Middleware stores the verified client's identity in the request context for
// next. A request without a verified client certificate can only reach it
// through a misconfigured server; it is answered 401 with the error envelope
// rather than served anonymously. With [ConnContext] set on the server, the
// identity is read once per connection and found through the connection's
// context, which spares a copy of the request too.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || len(r.TLS.VerifiedChains) == 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "a verified client certificate is required"})
			return
		}
		if ci, ok := connFrom(r.Context()); ok {
			if _, ok := ci.get(); ok {
				next.ServeHTTP(w, r)
				return
			}
		}
		id := FromCertificate(r.TLS.PeerCertificates[0])
		next.ServeHTTP(w, r.WithContext(With(r.Context(), id)))
	})
}
