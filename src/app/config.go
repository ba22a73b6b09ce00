// Package app runs replicasd's parts together: the informer cache, the mTLS
// API server, the ops server, the certificate reloader and the health
// checker, and shuts them down cleanly.
package app

import (
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

	RESTConfig       *rest.Config
	Namespaces       []string
	DefaultNamespace string
	MaxReplicas      int32

	CacheSyncTimeout          time.Duration
	ReadYourWritesTimeout     time.Duration
	MinResourceVersionTimeout time.Duration
	ShutdownTimeout           time.Duration

	AuthorizationPolicyFile string

	// Probe checks that Kubernetes answers; nil means kube-apiserver's
	// /readyz. Tests with a fake clientset set their own.
	Probe health.Probe

	Logger *slog.Logger
}
