package identity

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
)

type connKey struct{}

// conn is the identity of one connection's client certificate, read on the
// connection's first request and kept for the others: the certificate
// cannot change within a connection, and reading the subject and issuer
// names costs more than the rest of a cached GET.
type conn struct {
	conn *tls.Conn
	id   atomic.Pointer[resolved]
}

// resolved is a connection's identity and its String form, the key the
// rate and in-flight limits look up on every request.
type resolved struct {
	id  Identity
	key string
}

// ConnContext is meant for http.Server.ConnContext on a TLS listener: it
// lets [Middleware] and [From] read the client's identity once per
// connection instead of once per request. Connections that are not TLS are
// left alone.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return ctx
	}
	return context.WithValue(ctx, connKey{}, &conn{conn: tc})
}

// get returns the identity of the connection's verified client
// certificate. Before the handshake completes it finds none and keeps
// nothing, so it cannot remember a wrong answer.
func (ci *conn) get() (*resolved, bool) {
	if r := ci.id.Load(); r != nil {
		return r, true
	}
	cs := ci.conn.ConnectionState()
	if !cs.HandshakeComplete || len(cs.PeerCertificates) == 0 || len(cs.VerifiedChains) == 0 {
		return nil, false
	}
	id := FromCertificate(cs.PeerCertificates[0])
	// Concurrent first requests (HTTP/2) may both get here; they compute
	// the same identity.
	r := &resolved{id: id, key: id.String()}
	ci.id.Store(r)
	return r, true
}

// connFrom returns the connection's identity reader, if ConnContext set one.
func connFrom(ctx context.Context) (*conn, bool) {
	ci, ok := ctx.Value(connKey{}).(*conn)
	return ci, ok
}
