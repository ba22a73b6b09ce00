package filewatch

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
)

// fakeFiles is a Reloader[string] over in-memory content: "bad..." fails to
// parse.
type fakeFiles struct {
	content   string
	installed []string
	failures  int
	results   []string
}

func (f *fakeFiles) reloader() *Reloader[string] {
	r := &Reloader[string]{Settings: DefaultSettings()}
	r.SetOnReload(func(result string) { f.results = append(f.results, result) })
	r.Read = func() ([32]byte, func() (string, error)) {
		c := f.content
		return sha256.Sum256([]byte(c)), func() (string, error) {
			if len(c) >= 3 && c[:3] == "bad" {
				return "", errors.New("cannot parse " + c)
			}
			return c, nil
		}
	}
	r.Install = func(v string, _ [32]byte, _ bool) { f.installed = append(f.installed, v) }
	r.Failed = func(error) { f.failures++ }
	return r
}

func TestReloaderKeepsLastGoodAndReportsABrokenFileOnce(t *testing.T) {
	f := &fakeFiles{content: "one"}
	r := f.reloader()
	if err := r.Load(); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		content string
		wantErr bool
	}{
		{"one", false}, // unchanged: no-op
		{"bad1", true}, // broken: reported
		{"bad1", true}, // still broken: error, not reported again
		{"one", false}, // back to good: no-op, forgets the failure
		{"bad1", true}, // broken the same way again: reported again
		{"two", false}, // a new good set: installed
		{"two", false}, // unchanged
	}
	for i, s := range steps {
		f.content = s.content
		if err := r.Reload(); (err != nil) != s.wantErr {
			t.Fatalf("step %d (%q): Reload() error = %v, want error %v", i, s.content, err, s.wantErr)
		}
	}
	if want := []string{"one", "two"}; !slices.Equal(f.installed, want) {
		t.Errorf("installed %q, want %q (the initial load, then the one new good set)", f.installed, want)
	}
	if f.failures != 2 {
		t.Errorf("Failed called %d times, want 2 (once per time the files broke)", f.failures)
	}
	if want := []string{ReloadFailure, ReloadFailure, ReloadSuccess}; !slices.Equal(f.results, want) {
		t.Errorf("OnReload got %q, want %q (Load does not report)", f.results, want)
	}
}

func TestReloaderLoadFailsOnBrokenFilesAndInstallsNothing(t *testing.T) {
	f := &fakeFiles{content: "bad"}
	if err := f.reloader().Load(); err == nil {
		t.Fatal("Load() of broken files succeeded")
	}
	if len(f.installed) != 0 || len(f.results) != 0 {
		t.Errorf("installed %q and reported %q, want nothing", f.installed, f.results)
	}
}
