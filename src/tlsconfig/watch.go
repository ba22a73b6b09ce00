package tlsconfig

import (
	"context"
	"sync"
	"time"

	"github.com/replicasd/replicasd/src/filewatch"
)

// Run watches the files and reloads them when they change (see
// [filewatch.Run] for how), rotates the session ticket keys daily, and keeps
// the clock [Reloader.Reverify] reads, until ctx is done; it then returns
// nil. Unchanged contents cost a read and a hash, never a reload.
func (r *Reloader) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	r.clock.Store(r.now().Unix())
	wg.Go(func() {
		// Without Run, Reverify reads the time itself.
		defer r.clock.Store(0)
		rotate := time.NewTicker(ticketKeyRotation)
		defer rotate.Stop()
		tick := time.NewTicker(r.clockTick)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-rotate.C:
				r.rotateTicketKeys()
			case <-tick.C:
				r.clock.Store(r.now().Unix())
			}
		}
	})
	r.files.Run(ctx, filewatch.Config{
		Files:  []string{r.cfg.CertFile, r.cfg.KeyFile, r.cfg.ClientCAFile, r.cfg.ClientCRLFile},
		What:   "TLS files",
		Logger: r.logger,
	})
	return nil
}
