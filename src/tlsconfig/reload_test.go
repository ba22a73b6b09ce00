package tlsconfig_test

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/replicasd/replicasd/src/certs"
	"github.com/replicasd/replicasd/src/testkit"
	"github.com/replicasd/replicasd/src/tlsconfig"
)

// secretVolume lays files out as the kubelet mounts a Secret: each file is a
// symlink into ..data, a symlink to a timestamped directory that an update
// replaces by renaming a new symlink over ..data.
type secretVolume struct {
	dir     string
	updates int
}

func (v *secretVolume) update(t *testing.T, files map[string][]byte) {
	t.Helper()
	old, _ := os.Readlink(filepath.Join(v.dir, "..data"))
	v.updates++
	ts := fmt.Sprintf("..2026_01_02_03_04_%02d.%09d", v.updates, v.updates)
	must(t, os.MkdirAll(filepath.Join(v.dir, ts), 0o755))
	for name, data := range files {
		must(t, os.WriteFile(filepath.Join(v.dir, ts, name), data, 0o644))
	}
	tmp := filepath.Join(v.dir, "..data_tmp")
	must(t, os.Symlink(ts, tmp))
	must(t, os.Rename(tmp, filepath.Join(v.dir, "..data")))
	for name := range files {
		link := filepath.Join(v.dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			must(t, os.Symlink(filepath.Join("..data", name), link))
		}
	}
	if old != "" {
		must(t, os.RemoveAll(filepath.Join(v.dir, old)))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestReloadOnChange(t *testing.T) {
	tests := []struct {
		name string
		// layout may move f's files and returns how to replace them.
		layout func(t *testing.T, f *fixture) (update func(server, clientCA *certs.Pair))
	}{
		{
			name: "files replaced by rename",
			layout: func(t *testing.T, f *fixture) func(server, clientCA *certs.Pair) {
				return func(server, clientCA *certs.Pair) { f.writeFiles(t, server, clientCA.CertPEM) }
			},
		},
		{
			name: "files rewritten in place",
			layout: func(t *testing.T, f *fixture) func(server, clientCA *certs.Pair) {
				return func(server, clientCA *certs.Pair) {
					writeRaw(t, f.cfg.ClientCAFile, clientCA.CertPEM)
					writeRaw(t, f.cfg.KeyFile, server.KeyPEM)
					writeRaw(t, f.cfg.CertFile, server.CertPEM)
				}
			},
		},
		{
			name: "Kubernetes Secret symlink swap",
			layout: func(t *testing.T, f *fixture) func(server, clientCA *certs.Pair) {
				v := &secretVolume{dir: filepath.Join(f.dir, "secret")}
				update := func(server, clientCA *certs.Pair) {
					v.update(t, map[string][]byte{"tls.crt": server.CertPEM, "tls.key": server.KeyPEM, "ca.crt": clientCA.CertPEM})
				}
				update(f.server, f.clientCA)
				f.cfg.CertFile = filepath.Join(v.dir, "tls.crt")
				f.cfg.KeyFile = filepath.Join(v.dir, "tls.key")
				f.cfg.ClientCAFile = filepath.Join(v.dir, "ca.crt")
				return update
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			update := tt.layout(t, f)
			r := newReloader(t, f.cfg, tlsconfig.WithPollInterval(0))
			runReloader(t, r)
			srv := startServer(t, r)
			oldClient := mustClient(t, f.clientCA, "old", nil)
			mustGet(t, newClient(f, oldClient), srv.url)

			// Twice, because a watch that works once can be lost with the
			// replaced file.
			for i := range 2 {
				newServer, newCA := f.rotate(t)
				update(newServer, newCA)
				testkit.Eventually(t, waitTimeout, fmt.Sprintf("serving the files of rotation %d", i+1), serving(r, newServer, newCA))

				resp := mustGet(t, newClient(f, mustClient(t, newCA, "new", nil)), srv.url)
				if resp.identity.User != "new" {
					t.Errorf("handler saw user %q, want new", resp.identity.User)
				}
				if !resp.tls.PeerCertificates[0].Equal(newServer.Cert) {
					t.Error("server still presents the old certificate")
				}
				wantRefused(t, clientConfig(f, oldClient), srv.addr, "unknown certificate authority")
				oldClient = mustClient(t, newCA, "old", nil)
			}
		})
	}
}

func TestReloadKeepsLastGoodSet(t *testing.T) {
	other := mustCA(t, "other")
	tests := []struct {
		name    string
		breakIt func(t *testing.T, f *fixture)
	}{
		{name: "garbage certificate", breakIt: func(t *testing.T, f *fixture) { writeRaw(t, f.cfg.CertFile, []byte("garbage")) }},
		{name: "key of another certificate", breakIt: func(t *testing.T, f *fixture) { writeRaw(t, f.cfg.KeyFile, other.KeyPEM) }},
		{name: "empty client CA file", breakIt: func(t *testing.T, f *fixture) { writeRaw(t, f.cfg.ClientCAFile, nil) }},
		{name: "client CA file removed", breakIt: func(t *testing.T, f *fixture) { mustRemove(t, f.cfg.ClientCAFile) }},
		{name: "certificate removed", breakIt: func(t *testing.T, f *fixture) { mustRemove(t, f.cfg.CertFile) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			results := make(chan string, 100)
			r := newReloader(t, f.cfg, tlsconfig.WithPollInterval(0), tlsconfig.WithOnReload(func(result string) { results <- result }))
			runReloader(t, r)
			srv := startServer(t, r)
			client := newClient(f, mustClient(t, f.clientCA, "bob", nil))

			tt.breakIt(t, f)
			waitResult(t, results, tlsconfig.ReloadFailure)
			if !r.ServerCertificate().Equal(f.server.Cert) {
				t.Error("the served certificate changed after a failed reload")
			}
			if resp := mustGet(t, client, srv.url); !resp.tls.PeerCertificates[0].Equal(f.server.Cert) {
				t.Error("the server presents another certificate after a failed reload")
			}
			// Still broken: the error stands, but is reported only once.
			if err := r.Reload(); err == nil {
				t.Error("Reload of broken files returned nil")
			}
			select {
			case res := <-results:
				t.Errorf("the same broken files were reported again: %s", res)
			default:
			}

			newServer, newCA := f.rotate(t)
			f.writeFiles(t, newServer, newCA.CertPEM)
			testkit.Eventually(t, waitTimeout, "serving the repaired files", serving(r, newServer, newCA))
		})
	}
}

func waitResult(t *testing.T, results <-chan string, want string) {
	t.Helper()
	select {
	case got := <-results:
		if got != want {
			t.Fatalf("reload result %q, want %q", got, want)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("no reload reported within %v, want %q", waitTimeout, want)
	}
}

func TestReloadPollsFilesOutsideWatchedDirectories(t *testing.T) {
	f := newFixture(t)
	// Symlinks to files in an unwatched directory: only polling sees the
	// targets change.
	links := t.TempDir()
	cfg := f.cfg
	for _, p := range []*string{&cfg.CertFile, &cfg.KeyFile, &cfg.ClientCAFile} {
		link := filepath.Join(links, filepath.Base(*p))
		must(t, os.Symlink(*p, link))
		*p = link
	}
	r := newReloader(t, cfg, tlsconfig.WithPollInterval(50*time.Millisecond))
	runReloader(t, r)

	newServer, newCA := f.rotate(t)
	f.writeFiles(t, newServer, newCA.CertPEM)
	testkit.Eventually(t, waitTimeout, "serving the new files", serving(r, newServer, newCA))
}

func TestResumedSessionRefusedAfterCAChange(t *testing.T) {
	f := newFixture(t)
	r := newReloader(t, f.cfg)
	srv := startServer(t, r)
	cache := tls.NewLRUClientSessionCache(8)
	withCache := func(c *tls.Config) { c.ClientSessionCache = cache }
	old := mustClient(t, f.clientCA, "old", nil)
	c := newClient(f, old, withCache)

	if mustGet(t, c, srv.url).tls.DidResume {
		t.Fatal("first connection resumed a session")
	}
	if !mustGet(t, c, srv.url).tls.DidResume {
		t.Fatal("second connection did not resume: the rest of the test would prove nothing")
	}

	_, newCA := f.rotate(t)
	f.writeFiles(t, f.server, newCA.CertPEM)
	if err := r.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	wantRefused(t, clientConfig(f, old, withCache), srv.addr, "unknown certificate authority")
	mustGet(t, newClient(f, mustClient(t, newCA, "new", nil)), srv.url)
}

func TestSessionTicketKeyRotation(t *testing.T) {
	f := newFixture(t)
	r := newReloader(t, f.cfg)
	srv := startServer(t, r)
	c := newClient(f, mustClient(t, f.clientCA, "bob", nil), func(c *tls.Config) {
		c.ClientSessionCache = tls.NewLRUClientSessionCache(8)
	})
	mustGet(t, c, srv.url)
	if !mustGet(t, c, srv.url).tls.DidResume {
		t.Fatal("second connection did not resume")
	}
	tlsconfig.RotateTicketKeys(r)
	if !mustGet(t, c, srv.url).tls.DidResume {
		t.Error("a ticket from before one rotation did not resume")
	}
	tlsconfig.RotateTicketKeys(r)
	tlsconfig.RotateTicketKeys(r)
	if mustGet(t, c, srv.url).tls.DidResume {
		t.Error("a ticket from before two rotations resumed")
	}
}
