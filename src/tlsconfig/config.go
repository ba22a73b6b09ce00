package tlsconfig

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// Config names the files a [Reloader] serves and the lowest TLS version it
// accepts.
type Config struct {
	// CertFile and KeyFile hold the server certificate (with any
	// intermediates) and its private key, PEM-encoded.
	CertFile, KeyFile string
	// ClientCAFile is the PEM bundle client certificates must chain to.
	ClientCAFile string
	// ClientCRLFile optionally holds one or more PEM certificate revocation
	// lists ("X509 CRL" blocks), each signed by a CA of ClientCAFile. A
	// client certificate they revoke is refused at the handshake. Empty
	// means no revocation checks.
	ClientCRLFile string
	// MinVersion is tls.VersionTLS13 or tls.VersionTLS12; zero means
	// tls.VersionTLS13.
	MinVersion uint16
}

// Names of the accepted --tls-min-version values.
const (
	VersionTLS13 = "VersionTLS13"
	VersionTLS12 = "VersionTLS12"
)

// ParseMinVersion parses a --tls-min-version value: exactly "VersionTLS13" or
// "VersionTLS12".
func ParseMinVersion(s string) (uint16, error) {
	switch s {
	case VersionTLS13:
		return tls.VersionTLS13, nil
	case VersionTLS12:
		return tls.VersionTLS12, nil
	default:
		return 0, fmt.Errorf("unsupported TLS minimum version %q: must be %s or %s", s, VersionTLS13, VersionTLS12)
	}
}

// tls12CipherSuites are the only TLS 1.2 suites offered: ECDHE key exchange
// for forward secrecy and AEAD ciphers. TLS 1.3 suites are not configurable
// and all qualify.
var tls12CipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// nextProtos offers HTTP/2 first, then HTTP/1.1.
var nextProtos = []string{"h2", "http/1.1"}

// withDefaults validates cfg and fills in the default minimum version,
// reporting every problem at once.
func (cfg Config) withDefaults() (Config, error) {
	var errs []error
	if cfg.CertFile == "" {
		errs = append(errs, errors.New("certificate file not set"))
	}
	if cfg.KeyFile == "" {
		errs = append(errs, errors.New("private key file not set"))
	}
	if cfg.ClientCAFile == "" {
		errs = append(errs, errors.New("client CA file not set"))
	}
	switch cfg.MinVersion {
	case 0:
		cfg.MinVersion = tls.VersionTLS13
	case tls.VersionTLS12, tls.VersionTLS13:
	default:
		errs = append(errs, fmt.Errorf("unsupported TLS minimum version %#04x: must be TLS 1.2 or 1.3", cfg.MinVersion))
	}
	return cfg, errors.Join(errs...)
}
