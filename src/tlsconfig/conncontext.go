package tlsconfig

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
)

type connIdentityKey struct{}

// connIdentity is the identity of one connection's client certificate,
// read on the connection's first request and kept for the others: the
// certificate cannot change within a connection, and reading the subject
// and issuer names costs more than the rest of a cached GET.
type connIdentity struct {
	conn *tls.Conn
	id   atomic.Pointer[Identity]
	// verdict is Reloader.Reverify's latest verdict on the certificate.
	verdict atomic.Pointer[verdict]
}

// ConnContext is meant for http.Server.ConnContext on a TLS listener: it
// lets [Middleware] and [IdentityFrom] read the client's identity once per
// connection instead of once per request. Connections that are not TLS
// are left alone.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return ctx
	}
	return context.WithValue(ctx, connIdentityKey{}, &connIdentity{conn: tc})
}

// get returns the identity of the connection's verified client
// certificate. Before the handshake completes it finds none and keeps
// nothing, so it cannot remember a wrong answer.
func (ci *connIdentity) get() (Identity, bool) {
	if id := ci.id.Load(); id != nil {
		return *id, true
	}
	cs := ci.conn.ConnectionState()
	if !cs.HandshakeComplete || len(cs.PeerCertificates) == 0 || len(cs.VerifiedChains) == 0 {
		return Identity{}, false
	}
	id := IdentityFromCertificate(cs.PeerCertificates[0])
	// Concurrent first requests (HTTP/2) may both get here; they compute
	// the same identity.
	ci.id.Store(&id)
	return id, true
}

// connIdentityFrom returns the connection's identity reader, if
// ConnContext set one.
func connIdentityFrom(ctx context.Context) (*connIdentity, bool) {
	ci, ok := ctx.Value(connIdentityKey{}).(*connIdentity)
	return ci, ok
}
