package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/replicasd/replicasd/bench/internal/load"
	"github.com/replicasd/replicasd/bench/internal/report"
)

// profileGets runs the GET-one load at the maximum rate against replicasd
// once more per protocol, unmeasured, while taking a CPU profile of
// replicasd through its --profiling endpoint, and writes
// <profile-dir>/get-<proto>.pprof. It runs after the measured rows, so the
// profiler's own cost never shows in the table.
func (b *bench) profileGets(ctx context.Context, size int) error {
	if b.cfg.profileDir == "" {
		return nil
	}
	if err := os.MkdirAll(b.cfg.profileDir, 0o755); err != nil {
		return err
	}
	s := b.replicasdSide()
	seconds := max(1, int(b.cfg.duration.Seconds()))
	for _, proto := range protocols {
		file := filepath.Join(b.cfg.profileDir, "get-"+strings.ReplaceAll(proto, "/", "")+".pprof")
		got := make(chan error, 1)
		go func() {
			// Started after the warm-up, so the profile sees only the
			// steady load.
			select {
			case <-time.After(b.cfg.warmup):
			case <-ctx.Done():
				got <- ctx.Err()
				return
			}
			got <- fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.opsAddr, seconds), file)
		}()
		_, err := load.Run(ctx, load.Spec{
			Name:     fmt.Sprintf("profile/%d/replicasd/%s", size, proto),
			Targeter: staticTargeter(http.MethodGet, s.base+s.get),
			Pool:     load.PoolConfig{TLS: s.tls, HTTP2: proto == report.H2, KeepAlive: true, Conns: b.cfg.getConns},
			Warmup:   b.cfg.warmup,
			Duration: time.Duration(seconds)*time.Second + time.Second,
			Servers:  s.pids,
		})
		if perr := <-got; err == nil {
			err = perr
		}
		if err != nil {
			return fmt.Errorf("profiling replicasd over %s: %w", proto, err)
		}
		b.log.Info("profile written", "proto", proto, "file", file, "show", "go tool pprof -top "+file)
	}
	return nil
}

// fetchProfile saves the pprof answer of url to file.
func fetchProfile(ctx context.Context, url, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s: status %d: %s", url, resp.StatusCode, body)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
