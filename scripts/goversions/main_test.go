package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repo writes files (path -> content) under a temporary directory and
// returns it.
func repo(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const workflowFromFile = `
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@d35c59abb061a4a6fb18e82ac0862c26744d6ab5 # v5.5.0
        with:
          go-version-file: .go-version
      - run: make lint
`

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		// want: substrings of the problems reported, in order; none means clean.
		want []string
	}{
		{
			name: "every module at or below the installed version passes",
			files: map[string]string{
				".github/workflows/ci.yml": workflowFromFile,
				".go-version":              "1.26.8\n",
				"go.mod":                   "module a\n\ngo 1.26.0\n",
				"tools/x/go.mod":           "module x\n\ngo 1.26.8 // exactly the installed one\n",
			},
		},
		{
			name: "a tool module whose go directive is newer than the installed version fails, naming it",
			files: map[string]string{
				".github/workflows/ci.yml":      workflowFromFile,
				".go-version":                   "1.26.0",
				"go.mod":                        "module a\ngo 1.26.0\n",
				"scripts/tools/promtool/go.mod": "module p\ngo 1.26.7\n",
			},
			want: []string{"scripts/tools/promtool/go.mod: go 1.26.7 is newer than go1.26.0, which .github/workflows/ci.yml job a installs"},
		},
		{
			name: "a toolchain directive newer than the installed version fails",
			files: map[string]string{
				".github/workflows/ci.yml": workflowFromFile,
				".go-version":              "1.26.8",
				"go.mod":                   "module a\ngo 1.26.0\ntoolchain go1.27.1\n",
			},
			want: []string{"go.mod: toolchain go1.27.1 is newer than go1.26.8"},
		},
		{
			name: "go-version-file pointing at a go.mod installs its go directive, not its toolchain",
			files: map[string]string{
				".github/workflows/ci.yml": strings.Replace(workflowFromFile, ".go-version", "go.mod", 1),
				"go.mod":                   "module a\ngo 1.26.0\ntoolchain go1.26.8\n",
			},
			want: []string{"go.mod: toolchain go1.26.8 is newer than go1.26.0"},
		},
		{
			name: "an explicit go-version is what is installed",
			files: map[string]string{
				".github/workflows/ci.yml": strings.Replace(workflowFromFile, "go-version-file: .go-version", "go-version: '1.26.1'", 1),
				"go.mod":                   "module a\ngo 1.26.2\n",
			},
			want: []string{"go.mod: go 1.26.2 is newer than go1.26.1"},
		},
		{
			name: "a version setup-go resolves at run time cannot be checked and fails",
			files: map[string]string{
				".github/workflows/ci.yml": strings.Replace(workflowFromFile, "go-version-file: .go-version", "go-version: stable", 1),
				"go.mod":                   "module a\ngo 1.26.0\n",
			},
			want: []string{`job a: setup-go go-version "stable" is not an exact Go release`},
		},
		{
			name: "setup-go without a version fails",
			files: map[string]string{
				".github/workflows/ci.yml": strings.Replace(workflowFromFile, "go-version-file: .go-version", "cache: false", 1),
				"go.mod":                   "module a\ngo 1.26.0\n",
			},
			want: []string{"job a: setup-go has neither go-version nor go-version-file"},
		},
		{
			name: "go.mod files under testdata and hidden directories are not modules of the repository",
			files: map[string]string{
				".github/workflows/ci.yml": workflowFromFile,
				".go-version":              "1.26.0",
				"go.mod":                   "module a\ngo 1.26.0\n",
				"x/testdata/go.mod":        "module t\ngo 1.99.0\n",
				".cache/y/go.mod":          "module y\ngo 1.99.0\n",
			},
		},
		{
			name: "a workflow that installs no Go at all is reported",
			files: map[string]string{
				".github/workflows/ci.yml": "jobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: true\n",
				"go.mod":                   "module a\ngo 1.26.0\n",
			},
			want: []string{"no actions/setup-go step"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems, err := check(repo(t, tt.files))
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			if len(problems) != len(tt.want) {
				t.Fatalf("problems = %q, want %d matching %q", problems, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(problems[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, problems[i], w)
				}
			}
		})
	}
}
