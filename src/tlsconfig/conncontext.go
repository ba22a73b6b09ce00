package tlsconfig

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"

	"github.com/replicasd/replicasd/src/identity"
)

type connVerdictKey struct{}

// connVerdict is [Reloader.Reverify]'s latest verdict on one connection's
// client certificates, kept in the connection's context.
type connVerdict struct {
	verdict atomic.Pointer[verdict]
}

// ConnContext is meant for http.Server.ConnContext of a server using the
// Reloader's TLSConfig. It does what [identity.ConnContext] does, and notes
// the material set current when the connection was accepted, before its
// handshake: as long as no reload comes, [Reloader.Reverify] knows the
// handshake's checks still hold without making them again. Connections
// that are not TLS are left alone.
func (r *Reloader) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if _, ok := c.(*tls.Conn); !ok {
		return ctx
	}
	cv := &connVerdict{}
	cv.verdict.Store(&verdict{material: r.gen.Load().material})
	return context.WithValue(identity.ConnContext(ctx, c), connVerdictKey{}, cv)
}

// connVerdictFrom returns the connection's verdict holder, if
// Reloader.ConnContext set one.
func connVerdictFrom(ctx context.Context) *connVerdict {
	cv, _ := ctx.Value(connVerdictKey{}).(*connVerdict)
	return cv
}
