// Package app runs replicasd's parts together: the informer cache, the mTLS
// API server, the ops server, the certificate reloader and the health
// checker, and shuts them down cleanly.
package app

import (
	"io"
	"log/slog"
	"time"

	"k8s.io/client-go/rest"

	"github.com/replicasd/replicasd/src/health"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// Config is the completed configuration of one server process (see
// options.Complete).
type Config struct {
	ListenAddress string
	OpsAddress    string
	TLS           tlsconfig.Config
	// Profiling serves net/http/pprof under /debug/pprof/ on the ops
	// address.
	Profiling bool

	RESTConfig       *rest.Config
	Namespaces       []string
	DefaultNamespace string
	MaxReplicas      int32

	CacheSyncTimeout          time.Duration
	ReadYourWritesTimeout     time.Duration
	MinResourceVersionTimeout time.Duration
	ShutdownTimeout           time.Duration
	// KubeAPITimeout bounds the Kubernetes API calls made for one request
	// (a PUT's reads, update and retries); zero means
	// deployments.DefaultKubeAPITimeout.
	KubeAPITimeout time.Duration

	// AuthorizationPolicyFile is the policy of who may do what; "" lets
	// every verified client do everything.
	AuthorizationPolicyFile string

	// WriteRateLimit and ReadRateLimit are the requests per second each
	// client identity may sustain (0 = no limit), WriteBurst and ReadBurst
	// how many it may send at once. MaxInflightRequests bounds the API
	// requests served at once (0 = no bound), and
	// MaxInflightRequestsPerClient one client identity's share of them
	// (0 = no bound); GET /health has a bound of its own.
	WriteRateLimit               float64
	WriteBurst                   int
	ReadRateLimit                float64
	ReadBurst                    int
	MaxInflightRequests          int
	MaxInflightRequestsPerClient int

	// ReadHeaderTimeout and WriteTimeout replace the API server's own
	// when positive; tests shorten them to see them work.
	ReadHeaderTimeout time.Duration
	WriteTimeout      time.Duration

	// AuditLogPath is the audit stream: a file, appended to, or "-" (and
	// "") for stdout. AuditOutput, when set, replaces it (for tests).
	AuditLogPath   string
	AuditLogFormat string // "json" ("" means json)
	// AuditReads audits successful reads too.
	AuditReads  bool
	AuditOutput io.Writer

	// Probe checks that Kubernetes answers; nil means kube-apiserver's
	// /readyz. Tests with a fake clientset set their own.
	Probe health.Probe

	Logger *slog.Logger
}
