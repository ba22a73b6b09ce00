package options

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the flag table in README.md")

// flagTable renders every flag as the README's configuration table.
func flagTable() string {
	fs := pflag.NewFlagSet("replicasd", pflag.ContinueOnError)
	New().AddFlags(fs)
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	fs.VisitAll(func(f *pflag.Flag) {
		def := f.DefValue
		switch {
		case f.Name == "namespace":
			def = "all namespaces"
		case def == "" || def == "[]":
			def = "–"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | `%s` | %s |\n", f.Name, EnvName(f.Name), def, f.Usage)
	})
	return b.String()
}

// TestReadmeListsEveryFlag keeps README.md's configuration table equal to the
// flags the server really has: go test ./src/options -update-readme rewrites it.
func TestReadmeListsEveryFlag(t *testing.T) {
	const path = "../../README.md"
	const begin, end = "<!-- flags:begin (checked by src/options/readme_test.go) -->\n", "<!-- flags:end -->"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", begin, end)
	}
	want := flagTable()
	got := readme[i+len(begin) : j]
	if got == want {
		return
	}
	if *updateReadme {
		if err := os.WriteFile(path, []byte(readme[:i+len(begin)]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's flag table is out of date; run go test ./src/options -update-readme. Want:\n%s", want)
}
