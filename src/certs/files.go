package certs

import (
	"fmt"
	"os"
	"path/filepath"
)

// File modes: certificates are public, private keys readable by the owner only.
const (
	CertFileMode os.FileMode = 0o644
	KeyFileMode  os.FileMode = 0o600
)

// WriteFiles writes the PEM certificate (mode 0644) and private key (mode
// 0600), replacing existing files. Each file is replaced atomically, so a
// server reloading them never reads half a file.
func (p *Pair) WriteFiles(certPath, keyPath string) error {
	if err := WriteFile(keyPath, p.KeyPEM, KeyFileMode); err != nil {
		return err
	}
	return WriteFile(certPath, p.CertPEM, CertFileMode)
}

// WriteFile writes data to path with mode perm by writing a temporary file in
// the same directory and renaming it over path, so readers see either the old
// or the new content. The temporary file is created with mode 0600, so a key
// is never readable by others, not even briefly.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
