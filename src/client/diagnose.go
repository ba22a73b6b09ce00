package client

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// probeTimeout bounds the second connection that diagnoses a closed one.
const probeTimeout = 2 * time.Second

// serverAlert opens a second connection to find out why the server closed
// the first one without answering. In TLS 1.3 the client's handshake ends
// before the server has checked the client certificate, so a refusal comes
// as an alert after the request is sent; when the server closes the socket
// with the request unread, the client often gets a reset or a broken pipe
// instead of the alert. A connection that sends nothing after the handshake
// reads the alert reliably. It returns the alert as an error, or nil when
// the server sent none (then the first error stands).
func (c *Client) serverAlert(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	dialer := &tls.Dialer{Config: c.tlsConfig}
	conn, err := dialer.DialContext(ctx, "tcp", c.hostPort())
	if err != nil {
		if _, ok := remoteAlert(err); ok {
			return err
		}
		return nil
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(deadline) // without a deadline the read ends when ctx does not: best effort
	}
	_, err = conn.Read(make([]byte, 1))
	if _, ok := remoteAlert(err); ok {
		return err
	}
	return nil
}

// hostPort is the server's address to dial, with the https default port.
func (c *Client) hostPort() string {
	if c.base.Port() != "" {
		return c.base.Host
	}
	return net.JoinHostPort(c.base.Hostname(), "443")
}
