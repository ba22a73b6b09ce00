package app

import (
	"log/slog"

	"github.com/replicasd/replicasd/src/api"
	"github.com/replicasd/replicasd/src/authz"
	"github.com/replicasd/replicasd/src/ratelimit"
)

// openAuthorizer loads --authorization-policy-file; without one it returns
// nil, which lets every verified client do everything, and says so.
func openAuthorizer(cfg *Config, log *slog.Logger) (*authz.Authorizer, error) {
	if cfg.AuthorizationPolicyFile == "" {
		log.Warn("no --authorization-policy-file: every client with a verified certificate may read and scale every deployment")
		return nil, nil
	}
	return authz.New(cfg.AuthorizationPolicyFile, log)
}

// securityOptions sets the API's authorizer and limits from cfg.
func securityOptions(opts *api.Options, cfg *Config, authorizer *authz.Authorizer) {
	if authorizer != nil {
		// Only a non-nil pointer: a nil one in the interface would not
		// read as "no policy".
		opts.Authorizer = authorizer
	}
	if cfg.WriteRateLimit > 0 {
		opts.WriteLimiter = ratelimit.New(ratelimit.Config{What: "write requests", Rate: cfg.WriteRateLimit, Burst: cfg.WriteBurst})
	}
	if cfg.ReadRateLimit > 0 {
		opts.ReadLimiter = ratelimit.New(ratelimit.Config{What: "read requests", Rate: cfg.ReadRateLimit, Burst: cfg.ReadBurst})
	}
	if cfg.MaxInflightRequests > 0 {
		opts.Inflight = ratelimit.NewInflight(cfg.MaxInflightRequests)
		// /health gets a bound of the same size of its own, so that probes
		// are answered while the API's is full.
		opts.HealthInflight = ratelimit.NewInflight(cfg.MaxInflightRequests)
	}
	if cfg.MaxInflightRequestsPerClient > 0 {
		opts.ClientInflight = ratelimit.NewClientInflight(cfg.MaxInflightRequestsPerClient)
	}
}
