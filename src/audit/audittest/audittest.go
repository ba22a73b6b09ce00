// Package audittest checks audit events in tests against the documented
// schema, docs/audit-event.schema.json.
package audittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/replicasd/replicasd/src/audit"
)

// SchemaPath is the schema's path from the repository root.
const SchemaPath = "docs/audit-event.schema.json"

// Decode splits the audit log output into lines, checks each against the
// JSON Schema (unknown fields, missing required fields, wrong types and
// values all fail the test) and decodes it strictly into an audit.Event.
func Decode(t testing.TB, output []byte) []audit.Event {
	t.Helper()
	schema := compile(t)
	var events []audit.Event
	for i, line := range bytes.Split(bytes.TrimSuffix(output, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			if len(output) > 0 {
				t.Fatalf("audit line %d is empty", i+1)
			}
			continue
		}
		ev, err := check(schema, line)
		if err != nil {
			t.Fatalf("audit line %d: %v\n%s", i+1, err, line)
		}
		events = append(events, ev)
	}
	return events
}

// Validate checks one line against the schema and decodes it strictly.
func Validate(t testing.TB, line []byte) (audit.Event, error) {
	t.Helper()
	return check(compile(t), line)
}

func check(schema *jsonschema.Schema, line []byte) (audit.Event, error) {
	var ev audit.Event
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return ev, fmt.Errorf("not JSON: %w", err)
	}
	if err := schema.Validate(doc); err != nil {
		return ev, fmt.Errorf("does not match %s: %w", SchemaPath, err)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return ev, fmt.Errorf("does not decode into audit.Event: %w", err)
	}
	return ev, nil
}

func compile(t testing.TB) *jsonschema.Schema {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(filepath.Join(root, SchemaPath))
	if err != nil {
		t.Fatalf("compiling %s: %v", SchemaPath, err)
	}
	return s
}

// repoRoot is the nearest directory above the working directory (a test's
// package directory) holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// Find returns the events matching keep.
func Find(events []audit.Event, keep func(audit.Event) bool) []audit.Event {
	var out []audit.Event
	for _, ev := range events {
		if keep(ev) {
			out = append(out, ev)
		}
	}
	return out
}

// String renders events one per line, for failure messages.
func String(events []audit.Event) string {
	var b strings.Builder
	for _, ev := range events {
		line, _ := json.Marshal(ev)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}
