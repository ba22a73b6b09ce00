package client

import (
	"errors"
	"io"
	"net/url"
	"syscall"
	"testing"
)

// TestClassifyClosed: the ways a connection closed without an answer shows
// up in net/http's errors are all KindClosed, so that they are diagnosed.
func TestClassifyClosed(t *testing.T) {
	get := func(err error) error {
		return &url.Error{Op: "Get", URL: "https://localhost:8443/api/v1/deployments", Err: err}
	}
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{name: "EOF", err: get(io.EOF), want: KindClosed},
		{name: "unexpected EOF", err: get(io.ErrUnexpectedEOF), want: KindClosed},
		{name: "reset", err: get(syscall.ECONNRESET), want: KindClosed},
		{name: "broken pipe", err: get(syscall.EPIPE), want: KindClosed},
		{name: "HTTP/2 connection not established", err: get(errors.New("http2: client conn could not be established")), want: KindClosed},
		{name: "something else", err: get(errors.New("http2: something else")), want: KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.err, true); got != tt.want {
				t.Errorf("classify(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
