package tlsconfig

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// pemTypeCRL is the PEM block type of a certificate revocation list.
const pemTypeCRL = "X509 CRL"

// revocations is the parsed content of a CRL file: which serial numbers each
// issuer revoked.
type revocations struct {
	// revoked is keyed by the issuer's raw subject, then the serial number
	// in hex.
	revoked map[string]map[string]struct{}
	// lists counts the CRLs, count the revoked entries.
	lists, count int
	// nextUpdate is the earliest NextUpdate of the CRLs (zero when none
	// sets one): after it, the issuer may have revoked more.
	nextUpdate time.Time
}

// parseCRLs parses every PEM block of data as a CRL and checks that one of
// cas signed it. Anything else fails, so a damaged or foreign file is refused
// instead of silently revoking less.
func parseCRLs(data []byte, cas []*x509.Certificate) (*revocations, error) {
	rv := &revocations{revoked: map[string]map[string]struct{}{}}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != pemTypeCRL {
			return nil, fmt.Errorf("unexpected PEM block %q, want only %s blocks", block.Type, pemTypeCRL)
		}
		rv.lists++
		crl, err := x509.ParseRevocationList(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing CRL %d: %w", rv.lists, err)
		}
		if !signedByOneOf(crl, cas) {
			return nil, fmt.Errorf("CRL %d (issuer %q) is not signed by any CA of the client CA file", rv.lists, crl.Issuer)
		}
		serials := rv.revoked[string(crl.RawIssuer)]
		if serials == nil {
			serials = map[string]struct{}{}
			rv.revoked[string(crl.RawIssuer)] = serials
		}
		for _, entry := range crl.RevokedCertificateEntries {
			if entry.SerialNumber != nil {
				serials[serialKey(entry.SerialNumber)] = struct{}{}
				rv.count++
			}
		}
		if !crl.NextUpdate.IsZero() && (rv.nextUpdate.IsZero() || crl.NextUpdate.Before(rv.nextUpdate)) {
			rv.nextUpdate = crl.NextUpdate
		}
	}
	if rv.lists == 0 {
		return nil, errors.New("no PEM " + pemTypeCRL + " blocks found")
	}
	return rv, nil
}

func signedByOneOf(crl *x509.RevocationList, cas []*x509.Certificate) bool {
	for _, ca := range cas {
		if bytes.Equal(ca.RawSubject, crl.RawIssuer) && crl.CheckSignatureFrom(ca) == nil {
			return true
		}
	}
	return false
}

// isRevoked reports whether the CRL of c's issuer lists c. Only CRLs whose
// signature was checked against a trusted CA are loaded, and c's chain was
// verified, so the issuer name identifies the CA.
func (rv *revocations) isRevoked(c *x509.Certificate) bool {
	if rv == nil || c.SerialNumber == nil {
		return false
	}
	_, ok := rv.revoked[string(c.RawIssuer)][serialKey(c.SerialNumber)]
	return ok
}

func serialKey(n *big.Int) string { return n.Text(16) }

// expired reports whether a CRL's NextUpdate has passed at now.
func (rv *revocations) expired(now time.Time) bool {
	return rv != nil && !rv.nextUpdate.IsZero() && now.After(rv.nextUpdate)
}
