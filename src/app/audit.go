package app

import (
	"fmt"
	"log/slog"

	"github.com/replicasd/replicasd/src/audit"
	"github.com/replicasd/replicasd/src/metrics"
)

// openAudit opens the audit stream cfg names: cfg.AuditOutput when set,
// else --audit-log-path ("" meaning stdout).
func openAudit(cfg *Config, log *slog.Logger, m *metrics.Metrics) (*audit.Logger, error) {
	if cfg.AuditLogFormat != "" && cfg.AuditLogFormat != audit.FormatJSON {
		return nil, fmt.Errorf("--audit-log-format %q: only %q is supported", cfg.AuditLogFormat, audit.FormatJSON)
	}
	opts := audit.Options{Reads: cfg.AuditReads, OnDrop: m.AuditEventDropped, OnPanic: m.HandlerPanicked, Logger: log}
	if cfg.AuditOutput != nil {
		return audit.New(cfg.AuditOutput, nil, opts), nil
	}
	path := cfg.AuditLogPath
	if path == "" {
		path = audit.Stdout
	}
	l, err := audit.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("--audit-log-path: %w", err)
	}
	log.Info("writing audit events", "path", path, "format", audit.FormatJSON, "reads", cfg.AuditReads)
	return l, nil
}
