package tlsconfig

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/replicasd/replicasd/src/filewatch"
)

// Results passed to the OnReload hook.
const (
	ReloadSuccess = filewatch.ReloadSuccess
	ReloadFailure = filewatch.ReloadFailure
)

// Defaults for the file watcher, see [WithPollInterval] and [WithDebounce].
const (
	DefaultPollInterval = filewatch.DefaultPollInterval
	DefaultDebounce     = filewatch.DefaultDebounce
)

// ticketKeyRotation is how often fresh session ticket keys are made when the
// files do not change; a ticket outlives at most two periods.
const ticketKeyRotation = 24 * time.Hour

// Reloader serves the certificate, key, client CA bundle and optional client
// CRLs named by a [Config], and replaces them when the files change. It is safe for
// concurrent use.
type Reloader struct {
	cfg       Config
	logger    *slog.Logger
	onRefused func(reason string)
	now       func() time.Time

	// clock is the Unix time in seconds, updated every clockTick while Run
	// runs and zero otherwise: reading the time costs more than the rest
	// of Reverify's common path.
	clock     atomic.Int64
	clockTick time.Duration
	// verifications counts Reverify's chain verifications, for tests.
	verifications atomic.Int64

	// files keeps the last good set; its lock serialises reloads and
	// ticket key rotations. Handshakes only read gen.
	files filewatch.Reloader[*material]
	gen   atomic.Pointer[generation]
}

// generation is one immutable server configuration: a material set and the
// session ticket keys that go with it.
type generation struct {
	material   *material
	digest     [32]byte
	ticketKeys [][32]byte
	config     *tls.Config
}

// Option configures a [Reloader].
type Option func(*Reloader)

// WithOnReload sets a hook called after each reload attempt that found
// changed files, with [ReloadSuccess] or [ReloadFailure]; for example to count
// reloads in a metric. Files that stay broken are reported once. The initial
// load in [New] does not call it. The hook runs synchronously, during the
// reload: it must not block or call [Reloader.Reload].
func WithOnReload(hook func(result string)) Option {
	return func(r *Reloader) { r.files.SetOnReload(hook) }
}

// WithPollInterval sets how often [Reloader.Run] re-reads the files in case a
// file system event was missed. Zero or negative disables polling.
func WithPollInterval(d time.Duration) Option {
	return func(r *Reloader) { r.files.PollInterval = d }
}

// WithDebounce sets how long [Reloader.Run] waits after the last file system
// event before reloading, so the files of one update are read together.
func WithDebounce(d time.Duration) Option {
	return func(r *Reloader) { r.files.Debounce = d }
}

// New loads the files named by cfg once and returns a Reloader serving them.
// It fails when a file is missing or invalid: the server must not start
// without a good set. A nil logger discards logs.
func New(cfg Config, logger *slog.Logger, opts ...Option) (*Reloader, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("invalid TLS configuration: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{
		cfg:       cfg,
		logger:    logger,
		onRefused: func(string) {},
		now:       time.Now,
		clockTick: time.Second,
	}
	r.files.Settings = filewatch.DefaultSettings()
	for _, opt := range opts {
		opt(r)
	}
	r.files.Read = func() ([32]byte, func() (*material, error)) {
		snap := readSnapshot(r.cfg)
		return snap.digest, func() (*material, error) { return snap.parse(r.cfg) }
	}
	r.files.Install = func(m *material, digest [32]byte, initial bool) {
		// A new CA bundle or CRL must not honour tickets issued under the
		// old one.
		r.install(m, digest, nil)
		msg := "reloaded TLS files"
		if initial {
			msg = "loaded TLS files"
		}
		r.logLoaded(msg, m)
	}
	r.files.Failed = func(err error) {
		r.logger.Error("reloading TLS files failed; keeping the last good set", "error", err)
	}
	if err := r.files.Load(); err != nil {
		return nil, err
	}
	return r, nil
}

// TLSConfig returns the server configuration. Its GetConfigForClient hands
// every handshake the current generation, so reloads apply to new
// connections at once. Use it as http.Server.TLSConfig and call ServeTLS with
// empty file names.
func (r *Reloader) TLSConfig() *tls.Config {
	cfg := r.baseConfig()
	// Never used while GetConfigForClient answers; an empty pool makes any
	// misuse fail closed instead of trusting the system roots.
	cfg.ClientCAs = x509.NewCertPool()
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		return r.gen.Load().config, nil
	}
	cfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return &r.gen.Load().material.cert, nil
	}
	return cfg
}

// baseConfig holds the settings every configuration shares.
func (r *Reloader) baseConfig() *tls.Config {
	cfg := &tls.Config{
		MinVersion: r.cfg.MinVersion,
		NextProtos: slices.Clone(nextProtos),
		ClientAuth: tls.RequireAndVerifyClientCert,
		Time:       r.now,
	}
	if cfg.MinVersion < tls.VersionTLS13 {
		cfg.CipherSuites = slices.Clone(tls12CipherSuites)
	}
	return cfg
}

// install makes m the current generation with a fresh session ticket key,
// keeping previous keys for decryption only. Fresh keys on a reload mean a
// session from the old set is never resumed past the new set's checks.
func (r *Reloader) install(m *material, digest [32]byte, previousKeys [][32]byte) {
	var key [32]byte
	rand.Read(key[:])
	g := &generation{
		material:   m,
		digest:     digest,
		ticketKeys: append([][32]byte{key}, previousKeys...),
	}
	cfg := r.baseConfig()
	cfg.Certificates = []tls.Certificate{m.cert}
	cfg.ClientCAs = m.clientCAs
	cfg.VerifyConnection = func(cs tls.ConnectionState) error { return r.verifyConnection(g, cs) }
	cfg.SetSessionTicketKeys(g.ticketKeys)
	g.config = cfg
	r.gen.Store(g)
}

// rotateTicketKeys starts a new generation with the same material and a fresh
// ticket key, keeping the current key so recent sessions still resume.
func (r *Reloader) rotateTicketKeys() {
	r.files.Locked(func() {
		g := r.gen.Load()
		r.install(g.material, g.digest, g.ticketKeys[:1])
	})
}

// Reload re-reads the files now, for example on SIGHUP; [Reloader.Run] calls
// it when the files change. Unchanged files are a no-op. A set that fails to
// load leaves the current one in place and is returned as an error. Changes
// are logged and reported to the OnReload hook once.
func (r *Reloader) Reload() error { return r.files.Reload() }

func (r *Reloader) logLoaded(msg string, m *material) {
	leaf := m.cert.Leaf
	attrs := []any{
		"certFile", r.cfg.CertFile,
		"subject", leaf.Subject.String(),
		"serial", leaf.SerialNumber.Text(16),
		"notAfter", leaf.NotAfter,
		"clientCAFile", r.cfg.ClientCAFile,
		"clientCAs", len(m.caCerts),
		"clientCANotAfter", earliestExpiry(m.caCerts),
	}
	rv := m.revocations
	if rv != nil {
		attrs = append(attrs,
			"clientCRLFile", r.cfg.ClientCRLFile,
			"clientCRLs", rv.lists,
			// Their signatures are checked when a client's chain shows
			// the intermediate CA.
			"clientCRLsOfIntermediates", rv.intermediateLists,
			"revokedCertificates", rv.count,
			"clientCRLNextUpdate", rv.nextUpdate)
	}
	r.logger.Info(msg, attrs...)
	now := time.Now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		r.logger.Warn("the server certificate is not valid now; clients will refuse it",
			"certFile", r.cfg.CertFile, "notBefore", leaf.NotBefore, "notAfter", leaf.NotAfter)
	}
	if rv.expired(now) {
		// Still enforced: an old list of revoked certificates is better than
		// none, and refusing every client would be an outage.
		r.logger.Warn("the client CRL has expired; it is still enforced, but the CA should publish a new one",
			"clientCRLFile", r.cfg.ClientCRLFile, "nextUpdate", rv.nextUpdate)
	}
}

// verifyConnection adds the checks crypto/tls does not make. It runs on full
// and resumed handshakes alike.
func (r *Reloader) verifyConnection(g *generation, cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("tlsconfig: client certificate required")
	}
	leaf := cs.PeerCertificates[0]
	// crypto/tls accepts a certificate without any extended key usage, or
	// with anyExtendedKeyUsage; the contract wants clientAuth itself.
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return fmt.Errorf("tlsconfig: client certificate %q lacks the clientAuth extended key usage", leaf.Subject)
	}
	// The current files, not the handshake's: a resumed session carries the
	// chains of its first handshake, and must not outlive their revocation;
	// and after a reload between this handshake's GetConfigForClient and
	// now, the chain is verified again against the current CAs.
	cur := r.gen.Load().material
	chains := cs.VerifiedChains
	if cur != g.material {
		chains = nil
	}
	if _, ref := cur.check(cs.PeerCertificates, chains, r.now()); ref != nil {
		return ref
	}
	return nil
}

// ServerCertificate returns the certificate currently served.
func (r *Reloader) ServerCertificate() *x509.Certificate {
	return r.gen.Load().material.cert.Leaf
}

// ClientCAs returns the CA certificates client certificates currently must
// chain to.
func (r *Reloader) ClientCAs() []*x509.Certificate {
	return slices.Clone(r.gen.Load().material.caCerts)
}

// ClientCAExpiry returns when the first of the current client CAs expires.
func (r *Reloader) ClientCAExpiry() time.Time {
	return earliestExpiry(r.gen.Load().material.caCerts)
}

// ClientCRLNextUpdate returns the earliest NextUpdate of the loaded client
// CRLs: once it has passed, the CRL has expired (it is still enforced). It is
// zero when no CRL file is configured or no CRL sets a NextUpdate.
func (r *Reloader) ClientCRLNextUpdate() time.Time {
	if rv := r.gen.Load().material.revocations; rv != nil {
		return rv.nextUpdate
	}
	return time.Time{}
}

func earliestExpiry(certs []*x509.Certificate) time.Time {
	var first time.Time
	for _, c := range certs {
		if first.IsZero() || c.NotAfter.Before(first) {
			first = c.NotAfter
		}
	}
	return first
}
