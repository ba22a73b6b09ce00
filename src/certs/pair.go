package certs

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// PEM block types written by this package.
const (
	pemTypeCertificate = "CERTIFICATE"
	pemTypePKCS8Key    = "PRIVATE KEY"
	pemTypeECKey       = "EC PRIVATE KEY"
)

// Pair is a certificate with its private key, both parsed and PEM-encoded.
type Pair struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// TLSCertificate returns the pair as a tls.Certificate with its Leaf set,
// ready for tls.Config.Certificates on either side of a connection.
func (p *Pair) TLSCertificate() tls.Certificate {
	return tls.Certificate{
		Certificate: [][]byte{p.Cert.Raw},
		PrivateKey:  p.Key,
		Leaf:        p.Cert,
	}
}

// CertPool returns a pool holding only this certificate, for use as
// tls.Config.RootCAs or ClientCAs when the pair is a CA.
func (p *Pair) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Cert)
	return pool
}

// Bundle concatenates the PEM certificates of pairs, as a CA bundle file
// holding several CAs (for example the old and the new one during a rotation).
func Bundle(pairs ...*Pair) []byte {
	var out []byte
	for _, p := range pairs {
		out = append(out, p.CertPEM...)
	}
	return out
}

// Parse builds a Pair from a PEM certificate (the first CERTIFICATE block) and
// a PEM ECDSA private key (PKCS #8 or SEC 1), checking that they belong
// together.
func Parse(certPEM, keyPEM []byte) (*Pair, error) {
	cert, err := parseCertificatePEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("private key does not match the certificate's public key")
	}
	return &Pair{Cert: cert, Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// Load reads and parses a certificate file and its key file, see [Parse].
func Load(certFile, keyFile string) (*Pair, error) {
	certPEM, err := os.ReadFile(certFile) // #nosec G304 -- the caller names its own certificate file
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile) // #nosec G304 -- the caller names its own key file
	if err != nil {
		return nil, err
	}
	p, err := Parse(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading %s and %s: %w", certFile, keyFile, err)
	}
	return p, nil
}

func parseCertificatePEM(data []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM CERTIFICATE block found")
		}
		if block.Type != pemTypeCertificate {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		return cert, nil
	}
}

func parseKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM private key block found")
	}
	switch block.Type {
	case pemTypePKCS8Key:
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing private key: %w", err)
		}
		ec, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("private key is a %T, want ECDSA", key)
		}
		return ec, nil
	case pemTypeECKey:
		key, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing private key: %w", err)
		}
		return key, nil
	default:
		return nil, fmt.Errorf("unsupported private key PEM block %q", block.Type)
	}
}

func encodeCertificatePEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemTypeCertificate, Bytes: der})
}

func encodeKeyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemTypePKCS8Key, Bytes: der}), nil
}
