package tlsconfig

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// pemTypeCRL is the PEM block type of a certificate revocation list.
const pemTypeCRL = "X509 CRL"

// revocations is the parsed content of a CRL file: which serial numbers each
// issuer revoked.
type revocations struct {
	// revoked holds the CRLs of the client CA file's CAs, whose signatures
	// were checked at load: keyed by the issuer's raw subject, then the
	// serial number in hex.
	revoked map[string]map[string]struct{}
	// byIntermediate holds the CRLs of issuers outside the client CA file:
	// intermediate CAs, which clients present in their chains. Keyed by the
	// issuer's raw subject.
	byIntermediate map[string][]*intermediateCRL
	// lists counts the CRLs, intermediateLists those of byIntermediate,
	// count the revoked entries.
	lists, intermediateLists, count int
	// nextUpdate is the earliest NextUpdate of the CRLs (zero when none
	// sets one): after it, the issuer may have revoked more.
	nextUpdate time.Time
}

// intermediateCRL is the CRL of an issuer that is not in the client CA file.
// Its signature can only be checked against the issuer's certificate, which
// arrives in a client's verified chain; until it is checked, the CRL revokes
// nothing.
type intermediateCRL struct {
	crl     *x509.RevocationList
	serials map[string]struct{}
	// signedBy caches the signature checks by the DER of the issuing
	// certificate: a handful of intermediates, each checked once.
	signedBy sync.Map // string -> bool
}

// parseCRLs parses every PEM block of data as a CRL. A CRL that names a CA of
// cas must be signed by it; one naming another issuer is kept for the
// intermediate CA of that name, and checked against it when a verified chain
// shows it. Anything else fails, so a damaged file is refused instead of
// silently revoking less.
func parseCRLs(data []byte, cas []*x509.Certificate) (*revocations, error) {
	rv := &revocations{revoked: map[string]map[string]struct{}{}, byIntermediate: map[string][]*intermediateCRL{}}
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
		if err := rv.add(crl, cas); err != nil {
			return nil, fmt.Errorf("CRL %d (issuer %q) %w", rv.lists, crl.Issuer, err)
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

// add files crl under its issuer.
func (rv *revocations) add(crl *x509.RevocationList, cas []*x509.Certificate) error {
	serials := map[string]struct{}{}
	for _, entry := range crl.RevokedCertificateEntries {
		if entry.SerialNumber != nil {
			serials[serialKey(entry.SerialNumber)] = struct{}{}
			rv.count++
		}
	}
	issuer := string(crl.RawIssuer)
	named := false
	for _, ca := range cas {
		if !bytes.Equal(ca.RawSubject, crl.RawIssuer) {
			continue
		}
		named = true
		if crl.CheckSignatureFrom(ca) == nil {
			if rv.revoked[issuer] == nil {
				rv.revoked[issuer] = map[string]struct{}{}
			}
			for s := range serials {
				rv.revoked[issuer][s] = struct{}{}
			}
			return nil
		}
	}
	if named {
		return errors.New("is not signed by the CA of the client CA file that it names")
	}
	rv.intermediateLists++
	rv.byIntermediate[issuer] = append(rv.byIntermediate[issuer], &intermediateCRL{crl: crl, serials: serials})
	return nil
}

// revokedIn returns the first certificate of the verified chains that the
// CRL of its issuer, the next certificate of its chain, revokes, or nil.
func (rv *revocations) revokedIn(chains [][]*x509.Certificate) *x509.Certificate {
	if rv == nil {
		return nil
	}
	for _, chain := range chains {
		for i := 0; i+1 < len(chain); i++ {
			if rv.revokes(chain[i], chain[i+1]) {
				return chain[i]
			}
		}
	}
	return nil
}

// revokes reports whether c, issued by issuer in a verified chain, is
// revoked by a CRL of issuer's name: one of the client CA file, whose
// signature was checked at load, or one of an intermediate, whose signature
// is checked against issuer now.
func (rv *revocations) revokes(c, issuer *x509.Certificate) bool {
	if c.SerialNumber == nil {
		return false
	}
	serial := serialKey(c.SerialNumber)
	if _, ok := rv.revoked[string(c.RawIssuer)][serial]; ok {
		return true
	}
	for _, l := range rv.byIntermediate[string(c.RawIssuer)] {
		if _, ok := l.serials[serial]; ok && l.isSignedBy(issuer) {
			return true
		}
	}
	return false
}

// isSignedBy reports whether issuer signed the CRL, checking each issuer
// once.
func (l *intermediateCRL) isSignedBy(issuer *x509.Certificate) bool {
	if ok, found := l.signedBy.Load(string(issuer.Raw)); found {
		return ok.(bool)
	}
	ok := l.crl.CheckSignatureFrom(issuer) == nil
	l.signedBy.Store(string(issuer.Raw), ok)
	return ok
}

func serialKey(n *big.Int) string { return n.Text(16) }

// expired reports whether a CRL's NextUpdate has passed at now.
func (rv *revocations) expired(now time.Time) bool {
	return rv != nil && !rv.nextUpdate.IsZero() && now.After(rv.nextUpdate)
}
