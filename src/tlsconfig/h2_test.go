package tlsconfig_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Conn speaks HTTP/2 frames directly, to see what net/http's client hides:
// the GOAWAY frame.
type h2Conn struct {
	conn   *tls.Conn
	framer *http2.Framer
	// goAway is set once a GOAWAY frame came, maybe before an answer.
	goAway bool
}

func dialH2(t *testing.T, f *fixture, addr string, mods ...func(*tls.Config)) *h2Conn {
	t.Helper()
	cfg := clientConfig(f, nil, mods...)
	cfg.NextProtos = []string{"h2"}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: waitTimeout}, "tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("negotiated %q, want h2", p)
	}
	_ = conn.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	h := &h2Conn{conn: conn, framer: http2.NewFramer(conn, conn)}
	h.framer.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := h.framer.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	return h
}

// get sends GET / on stream id and returns the answer's :status, skipping
// other frames.
func (h *h2Conn) get(t *testing.T, id uint32) string {
	t.Helper()
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "replicasd"}, {":path", "/"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if err := h.framer.WriteHeaders(http2.HeadersFrameParam{
		StreamID: id, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true,
	}); err != nil {
		t.Fatal(err)
	}
	for {
		fr, err := h.framer.ReadFrame()
		if err != nil {
			t.Fatalf("reading the answer on stream %d: %v", id, err)
		}
		switch fr := fr.(type) {
		case *http2.SettingsFrame:
			if !fr.IsAck() {
				_ = h.framer.WriteSettingsAck()
			}
		case *http2.GoAwayFrame:
			h.goAway = true
		case *http2.MetaHeadersFrame:
			if fr.StreamID == id {
				return fr.PseudoValue("status")
			}
		}
	}
}

// wantGoAway reads frames until a GOAWAY, then until the server closes the
// connection.
func (h *h2Conn) wantGoAway(t *testing.T) {
	t.Helper()
	for !h.goAway {
		fr, err := h.framer.ReadFrame()
		if err != nil {
			t.Fatalf("no GOAWAY before %v", err)
		}
		_, h.goAway = fr.(*http2.GoAwayFrame)
	}
	for {
		_, err := h.framer.ReadFrame()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("after the GOAWAY: %v, want the connection closed", err)
		}
	}
}
