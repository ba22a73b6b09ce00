// Command goversions checks that the Go the GitHub workflow installs can
// build every Go module of the repository: the workflow sets
// GOTOOLCHAIN=local, so a module whose go or toolchain directive names a
// newer Go fails to build there (and only there). `make lint` runs it.
//
// Usage: goversions [REPO_ROOT]
package main

import (
	"errors"
	"fmt"
	goversion "go/version"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	problems, err := check(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goversions:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// check lists every way a module under root needs a newer Go than a
// workflow job installs, and every setup-go step whose version cannot be
// known before it runs.
func check(root string) ([]string, error) {
	installs, problems, err := installedVersions(root)
	if err != nil {
		return nil, err
	}
	mods, err := modules(root)
	if err != nil {
		return nil, err
	}
	for _, m := range mods {
		for _, in := range installs {
			for _, need := range []struct{ directive, version string }{{"go", m.goVersion}, {"toolchain", m.toolchain}} {
				if need.version == "" {
					continue
				}
				v := "go" + strings.TrimPrefix(need.version, "go")
				if goversion.Compare(v, in.version) > 0 {
					problems = append(problems, fmt.Sprintf("%s: %s %s is newer than %s, which %s installs (%s); raise that version",
						m.path, need.directive, need.version, in.version, in.where, in.source))
				}
			}
		}
	}
	return problems, nil
}

// module is one go.mod's Go requirements.
type module struct {
	path      string // relative to the repository root, slash-separated
	goVersion string // the go directive, e.g. "1.26.0"
	toolchain string // the toolchain directive, e.g. "go1.26.8", or ""
}

// modules reads every go.mod under root, skipping hidden directories and
// testdata (neither holds a module of the repository).
func modules(root string) ([]module, error) {
	var mods []module
	// #nosec G703 -- root is the repository this developer tool checks
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || d.Name() != "go.mod" {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p) // #nosec G304 G122 -- a go.mod of the repository being checked
		if err != nil {
			return err
		}
		m := module{path: filepath.ToSlash(rel)}
		m.goVersion, m.toolchain = directives(string(data))
		mods = append(mods, m)
		return nil
	})
	sort.Slice(mods, func(i, j int) bool { return mods[i].path < mods[j].path })
	return mods, err
}

// directives returns the go and toolchain directives of a go.mod.
func directives(gomod string) (goVersion, toolchain string) {
	for _, line := range strings.Split(gomod, "\n") {
		line, _, _ = strings.Cut(line, "//")
		fields := strings.Fields(line)
		if len(fields) != 2 {
			continue
		}
		switch fields[0] {
		case "go":
			goVersion = fields[1]
		case "toolchain":
			toolchain = fields[1]
		}
	}
	return goVersion, toolchain
}

// install is the Go one setup-go step installs.
type install struct {
	version string // e.g. "go1.26.8"
	where   string // workflow file and job
	source  string // how the step names it
}

// workflow is the part of a GitHub workflow file this check reads.
type workflow struct {
	Jobs map[string]struct {
		Steps []struct {
			Uses string            `yaml:"uses"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// exactRelease is a Go release setup-go installs as written; anything else
// ("1.26", "stable", an expression) is resolved only when the job runs.
var exactRelease = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// installedVersions reads every setup-go step of .github/workflows.
func installedVersions(root string) ([]install, []string, error) {
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	var installs []install
	var problems []string
	for _, file := range files {
		data, err := os.ReadFile(file) // #nosec G304 G703 -- a workflow file of the repository
		if err != nil {
			return nil, nil, err
		}
		var wf workflow
		if err := yaml.Unmarshal(data, &wf); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		rel := path.Join(".github/workflows", filepath.Base(file))
		jobs := make([]string, 0, len(wf.Jobs))
		for name := range wf.Jobs {
			jobs = append(jobs, name)
		}
		sort.Strings(jobs)
		for _, job := range jobs {
			for _, step := range wf.Jobs[job].Steps {
				if !strings.HasPrefix(step.Uses, "actions/setup-go@") {
					continue
				}
				in := install{where: fmt.Sprintf("%s job %s", rel, job)}
				if err := resolve(root, step.With, &in); err != nil {
					problems = append(problems, fmt.Sprintf("%s: %v", in.where, err))
					continue
				}
				installs = append(installs, in)
			}
		}
	}
	if len(installs) == 0 && len(problems) == 0 {
		problems = append(problems, "no actions/setup-go step in .github/workflows: the version CI builds with is unknown")
	}
	return installs, problems, nil
}

// resolve sets in.version to what setup-go installs for these inputs: an
// explicit go-version wins; go-version-file is read as setup-go reads it
// (the go directive of a go.mod or go.work, never its toolchain line; the
// whole content of any other file).
func resolve(root string, with map[string]string, in *install) error {
	spec := with["go-version"]
	in.source = "go-version: " + spec
	if spec == "" {
		file := with["go-version-file"]
		if file == "" {
			return errors.New("setup-go has neither go-version nor go-version-file, so it uses whatever Go the runner has")
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file))) // #nosec G304 G703 -- a file of the repository the workflow names
		if err != nil {
			return fmt.Errorf("setup-go go-version-file: %w", err)
		}
		spec = strings.TrimSpace(string(data))
		if base := path.Base(file); base == "go.mod" || base == "go.work" {
			spec, _ = directives(string(data))
		}
		in.source = "go-version-file: " + file
	}
	if !exactRelease.MatchString(spec) {
		return fmt.Errorf("setup-go go-version %q is not an exact Go release (like 1.26.8), so this check cannot know what CI installs", spec)
	}
	in.version = "go" + spec
	return nil
}
