package tlsconfig

import (
	"cmp"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// material is one consistent, parsed set of the files.
type material struct {
	cert      tls.Certificate // Leaf is set
	clientCAs *x509.CertPool
	caCerts   []*x509.Certificate
	// revocations is nil without a CRL file.
	revocations *revocations
}

// snapshot is the raw content of the files as read at one moment.
type snapshot struct {
	cert, key, ca, crl []byte
	err                error // the first read error, if any
	digest             [sha256.Size]byte
}

// readSnapshot reads the files. Its digest covers contents and read errors,
// so an unchanged set, good or broken, is recognised without parsing it.
func readSnapshot(cfg Config) snapshot {
	var s snapshot
	h := sha256.New()
	files := []struct {
		path string
		dst  *[]byte
	}{{cfg.CertFile, &s.cert}, {cfg.KeyFile, &s.key}, {cfg.ClientCAFile, &s.ca}}
	if cfg.ClientCRLFile != "" {
		files = append(files, struct {
			path string
			dst  *[]byte
		}{cfg.ClientCRLFile, &s.crl})
	}
	for _, f := range files {
		data, err := os.ReadFile(f.path)
		if err != nil {
			s.err = cmp.Or(s.err, err)
			data = []byte("error: " + err.Error())
		}
		*f.dst = data
		// Length-prefixed, so moving bytes between files changes the digest.
		_ = binary.Write(h, binary.BigEndian, uint64(len(data)))
		h.Write(data)
	}
	h.Sum(s.digest[:0])
	return s
}

// parse turns a snapshot into material, checking that the key matches the
// certificate, that the CA bundle holds only certificates and that every CRL
// is signed by one of those CAs.
func (s snapshot) parse(cfg Config) (*material, error) {
	if s.err != nil {
		return nil, s.err
	}
	cert, err := tls.X509KeyPair(s.cert, s.key)
	if err != nil {
		return nil, fmt.Errorf("loading certificate %s and key %s: %w", cfg.CertFile, cfg.KeyFile, err)
	}
	cas, err := parseCABundle(s.ca)
	if err != nil {
		return nil, fmt.Errorf("loading client CA file %s: %w", cfg.ClientCAFile, err)
	}
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	m := &material{cert: cert, clientCAs: pool, caCerts: cas}
	if cfg.ClientCRLFile != "" {
		if m.revocations, err = parseCRLs(s.crl, cas); err != nil {
			return nil, fmt.Errorf("loading client CRL file %s: %w", cfg.ClientCRLFile, err)
		}
	}
	return m, nil
}

// parseCABundle parses every PEM block as a certificate. Unlike
// CertPool.AppendCertsFromPEM it fails on anything it cannot parse, so a
// damaged bundle is refused instead of silently trusting fewer CAs.
func parseCABundle(data []byte) ([]*x509.Certificate, error) {
	var cas []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q, want only CERTIFICATE blocks", block.Type)
		}
		ca, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate %d: %w", len(cas)+1, err)
		}
		cas = append(cas, ca)
	}
	if len(cas) == 0 {
		return nil, errors.New("no PEM certificates found")
	}
	return cas, nil
}
