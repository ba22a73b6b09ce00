package metrics

import (
	"crypto/x509"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Certificates labels of cert_expiry_timestamp_seconds.
const (
	CertServer   = "server"
	CertClientCA = "client_ca"
)

// TLSHandshakeFailed counts one failed handshake on the API port; reason is
// one of the handshakes package's reasons.
func (m *Metrics) TLSHandshakeFailed(reason string) {
	m.tlsHandshakeErrors.WithLabelValues(reason).Inc()
}

func newTLSReverifyRefusals() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "tls_reverify_refusals_total",
		Help: "API requests refused on a connection opened before its client certificate stopped verifying " +
			"(its CA removed from the bundle, revoked by a reloaded CRL, or expired), by reason: " +
			"revoked, unknown_authority, expired. Each refusal closes its connection.",
	}, []string{"reason"})
}

// InitReverifyRefusals creates the tls_reverify_refusals_total series of
// reasons (tlsconfig.RefusalReasons) at 0, so that a fresh scrape shows them.
func (m *Metrics) InitReverifyRefusals(reasons []string) {
	for _, reason := range reasons {
		m.tlsReverifyRefusals.WithLabelValues(reason)
	}
}

// ReverifyRefused counts one request refused on an open connection; it is
// the tlsconfig.WithOnRefused hook.
func (m *Metrics) ReverifyRefused(reason string) {
	m.tlsReverifyRefusals.WithLabelValues(reason).Inc()
}

// CertReloaded counts one reload of changed TLS files; it is the
// tlsconfig.WithOnReload hook.
func (m *Metrics) CertReloaded(result string) {
	m.certReloads.WithLabelValues(result).Inc()
}

// CertSource is what the certificate expiry gauges read; the
// tlsconfig.Reloader implements it.
type CertSource interface {
	// ServerCertificate is the certificate currently served.
	ServerCertificate() *x509.Certificate
	// ClientCAExpiry is when the first of the current client CAs expires.
	ClientCAExpiry() time.Time
}

// RegisterCertificates adds replicasd_cert_expiry_timestamp_seconds for the
// server certificate and the client CA bundle. The gauges read src at every
// scrape, so they follow reloads.
func (m *Metrics) RegisterCertificates(src CertSource) {
	gauge := func(cert string, expiry func() time.Time) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "cert_expiry_timestamp_seconds",
			Help:        "Unix time at which the certificate expires (for client_ca, the first CA of the bundle to expire).",
			ConstLabels: prometheus.Labels{"cert": cert},
		}, func() float64 { return float64(expiry().Unix()) })
	}
	m.registerer.MustRegister(
		gauge(CertServer, func() time.Time { return src.ServerCertificate().NotAfter }),
		gauge(CertClientCA, src.ClientCAExpiry),
	)
}
