package options

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/replicasd/replicasd/src/app"
	"github.com/replicasd/replicasd/src/tlsconfig"
	"github.com/replicasd/replicasd/src/version"
)

// Complete turns validated options into the configuration app.Run takes:
// the logger, the Kubernetes client configuration and the TLS settings.
// Call it only after Validate returned no problems.
func (o *Options) Complete(logOutput io.Writer) (*app.Config, error) {
	logger, err := NewLogger(logOutput, o.LogFormat, o.LogLevel)
	if err != nil {
		return nil, err
	}
	// client-go logs through klog; route it into the same structured stream.
	klog.SetSlogLogger(logger)

	minVersion, err := tlsconfig.ParseMinVersion(o.TLSMinVersion)
	if err != nil {
		return nil, err
	}

	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	// The deferred loader falls back to the in-cluster config when no
	// kubeconfig is found, which is how the server runs in a pod.
	restConfig, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading Kubernetes client configuration: %w", err)
	}
	restConfig.QPS = o.KubeAPIQPS
	restConfig.Burst = o.KubeAPIBurst
	restConfig.UserAgent = "replicasd/" + version.Get().Version

	defaultNamespace := o.DefaultNamespace
	if len(o.Namespaces) == 1 && !o.defaultNamespaceSet {
		// Serving only one namespace: the un-namespaced paths mean that one.
		defaultNamespace = o.Namespaces[0]
	}

	return &app.Config{
		ListenAddress: o.ListenAddress,
		OpsAddress:    o.OpsAddress,
		Profiling:     o.Profiling,
		TLS: tlsconfig.Config{
			CertFile:      o.TLSCertFile,
			KeyFile:       o.TLSPrivateKeyFile,
			ClientCAFile:  o.ClientCAFile,
			ClientCRLFile: o.ClientCRLFile,
			MinVersion:    minVersion,
		},
		RESTConfig:                   restConfig,
		Namespaces:                   append([]string(nil), o.Namespaces...),
		DefaultNamespace:             defaultNamespace,
		MaxReplicas:                  int32(o.MaxReplicas), // #nosec G115 -- bounded by Validate
		CacheSyncTimeout:             o.CacheSyncTimeout,
		ReadYourWritesTimeout:        o.ReadYourWritesTimeout,
		MinResourceVersionTimeout:    o.MinResourceVersionTimeout,
		ShutdownTimeout:              o.ShutdownTimeout,
		KubeAPITimeout:               o.KubeAPITimeout,
		AuthorizationPolicyFile:      o.AuthorizationPolicyFile,
		WriteRateLimit:               o.WriteRateLimit,
		WriteBurst:                   o.WriteBurst,
		ReadRateLimit:                o.ReadRateLimit,
		ReadBurst:                    o.ReadBurst,
		MaxInflightRequests:          o.MaxInflightRequests,
		MaxInflightRequestsPerClient: o.MaxInflightRequestsPerClient,
		AuditLogPath:                 o.AuditLogPath,
		AuditLogFormat:               o.AuditLogFormat,
		AuditReads:                   o.AuditReads,
		Logger:                       logger,
	}, nil
}

// NewLogger builds the process logger: JSON for machines by default, text
// for people.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	lvl, err := parseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q: must be debug, info, warn or error", s)
}
