package certs

import (
	"crypto/x509"
	"slices"
	"time"
)

// Default validity periods: a development CA lives a year, the certificates it
// issues 90 days (capped at the CA's own expiry).
const (
	DefaultCAValidity   = 365 * 24 * time.Hour
	DefaultLeafValidity = 90 * 24 * time.Hour
)

// backdate starts default validity periods slightly in the past, so a peer
// whose clock runs a little behind accepts a freshly issued certificate.
const backdate = 5 * time.Minute

// Option changes how a certificate is issued; tests use options to build
// certificates that must be refused.
type Option func(*settings)

type settings struct {
	notBefore, notAfter time.Time
	validitySet         bool
	extKeyUsage         []x509.ExtKeyUsage
	extKeyUsageSet      bool
	maxPathLen          int
}

// WithValidity sets the exact validity period, for example one in the past
// (expired) or in the future (not yet valid). It is not capped at the CA's
// expiry.
func WithValidity(notBefore, notAfter time.Time) Option {
	return func(s *settings) {
		s.notBefore, s.notAfter, s.validitySet = notBefore, notAfter, true
	}
}

// WithExtKeyUsage replaces the default extended key usages (clientAuth for
// client certificates, serverAuth for server certificates, none for CAs).
// Called with no usages, the certificate carries no extended key usage at all.
func WithExtKeyUsage(usages ...x509.ExtKeyUsage) Option {
	return func(s *settings) {
		s.extKeyUsage, s.extKeyUsageSet = slices.Clone(usages), true
	}
}

// WithMaxPathLen lets a CA made by [NewCA] sign n levels of intermediate CAs
// (see [Pair.IssueIntermediate]); by default it signs leaf certificates only.
// Other certificates ignore it.
func WithMaxPathLen(n int) Option {
	return func(s *settings) { s.maxPathLen = n }
}

func newSettings(validity time.Duration, extKeyUsage []x509.ExtKeyUsage, opts []Option) settings {
	now := time.Now()
	s := settings{
		notBefore:   now.Add(-backdate),
		notAfter:    now.Add(validity),
		extKeyUsage: extKeyUsage,
	}
	for _, opt := range opts {
		opt(&s)
	}
	return s
}
