package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
)

// serialLimit makes serial numbers 128-bit: rand.Int(serialLimit)+1 lies in
// [1, 2^128-1], positive as RFC 5280 requires.
var serialLimit = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// DefaultServerNames returns the names a server certificate covers when none
// are given: localhost over IPv4 and IPv6.
func DefaultServerNames() []string {
	return []string{"localhost", "127.0.0.1", "::1"}
}

// NewCA creates a self-signed CA certificate with common name cn, valid for
// [DefaultCAValidity] unless an option says otherwise.
func NewCA(cn string, opts ...Option) (*Pair, error) {
	if cn == "" {
		return nil, errors.New("CA common name must not be empty")
	}
	s := newSettings(DefaultCAValidity, nil, opts)
	return create(caTemplate(cn, s.maxPathLen), nil, s)
}

// IssueIntermediate issues an intermediate CA certificate signed by ca,
// which signs leaf certificates and CRLs. ca must allow it (see
// [WithMaxPathLen]), or chains through it fail verification.
func (ca *Pair) IssueIntermediate(cn string, opts ...Option) (*Pair, error) {
	if cn == "" {
		return nil, errors.New("CA common name must not be empty")
	}
	return ca.sign(caTemplate(cn, 0), newSettings(DefaultCAValidity, nil, opts))
}

// caTemplate is a CA certificate that may sign maxPathLen levels of
// intermediate CAs below it; by default, leaf certificates only.
func caTemplate(cn string, maxPathLen int) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            maxPathLen,
		MaxPathLenZero:        maxPathLen == 0,
	}
}

// IssueServer issues a server certificate (serverAuth) for names, each a DNS
// name or an IP address; no names means [DefaultServerNames]. The common name
// is the first name.
//
// Any Pair can sign, not only a CA: tests use that to build invalid chains.
func (ca *Pair) IssueServer(names []string, opts ...Option) (*Pair, error) {
	if len(names) == 0 {
		names = DefaultServerNames()
	}
	tmpl := &x509.Certificate{
		Subject:  pkix.Name{CommonName: names[0]},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	for _, name := range names {
		if name == "" {
			return nil, errors.New("server name must not be empty")
		}
		if ip := net.ParseIP(name); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, name)
		}
	}
	s := newSettings(DefaultLeafValidity, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, opts)
	return ca.sign(tmpl, s)
}

// IssueClient issues a client certificate (clientAuth) whose subject carries
// the identity replicasd sees: cn is the user, orgs the groups.
//
// Any Pair can sign, not only a CA: tests use that to build invalid chains.
func (ca *Pair) IssueClient(cn string, orgs []string, opts ...Option) (*Pair, error) {
	if cn == "" {
		return nil, errors.New("client common name must not be empty")
	}
	tmpl := &x509.Certificate{
		Subject:  pkix.Name{CommonName: cn, Organization: slices.Clone(orgs)},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	s := newSettings(DefaultLeafValidity, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, opts)
	return ca.sign(tmpl, s)
}

// NewSelfSignedClient creates a self-signed client certificate (clientAuth,
// not a CA) with common name cn: a certificate no server should trust.
func NewSelfSignedClient(cn string, opts ...Option) (*Pair, error) {
	if cn == "" {
		return nil, errors.New("client common name must not be empty")
	}
	tmpl := &x509.Certificate{
		Subject:  pkix.Name{CommonName: cn},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	s := newSettings(DefaultLeafValidity, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, opts)
	return create(tmpl, nil, s)
}

// sign issues tmpl signed by ca. A default validity is capped at the CA's
// expiry, because a certificate outliving its issuer only fails later.
func (ca *Pair) sign(tmpl *x509.Certificate, s settings) (*Pair, error) {
	if ca == nil || ca.Cert == nil || ca.Key == nil {
		return nil, errors.New("issuer needs a certificate and a private key")
	}
	if !s.validitySet && s.notAfter.After(ca.Cert.NotAfter) {
		s.notAfter = ca.Cert.NotAfter
	}
	return create(tmpl, ca, s)
}

// create fills in the key, serial, validity and extended key usage, then
// signs tmpl with parent, or self-signs when parent is nil.
func create(tmpl *x509.Certificate, parent *Pair, s settings) (*Pair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, serialLimit)
	if err != nil {
		return nil, fmt.Errorf("generating serial number: %w", err)
	}
	serial.Add(serial, big.NewInt(1))
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = s.notBefore, s.notAfter
	tmpl.ExtKeyUsage = s.extKeyUsage

	parentCert, signer := tmpl, key
	if parent != nil {
		parentCert, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("creating certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing created certificate: %w", err)
	}
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return nil, err
	}
	return &Pair{Cert: cert, Key: key, CertPEM: encodeCertificatePEM(der), KeyPEM: keyPEM}, nil
}
