package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const doc = "# Title\n" + // 1
		"\n" + // 2
		"```console docs-check\n" + // 3
		"$ C=\"curl -sS\"\n" + // 4
		"$ $C -i https://localhost:8443/api/v1/x \\\n" + // 5
		"    -H 'A: b'\n" + // 6
		"HTTP/2 412 \n" + // 7
		"content-type: application/json\n" + // 8
		"\n" + // 9
		"{\"error\":\"stale\"}\n" + // 10
		"$ replicactl get nope   # exit 1\n" + // 11
		"error: not found\n" + // 12
		"```\n" + // 13
		"\n" + // 14
		"- a list item:\n" + // 15
		"  ```sh docs-check\n" + // 16
		"  # a comment\n" + // 17
		"  make replicactl\n" + // 18
		"\n" + // 19
		"  curl -X PUT https://localhost:8443/api/v1/y   # HTTP 412, 415\n" + // 20
		"  ```\n" + // 21
		"```sh\n" + // 22
		"make test\n" + // 23
		"```\n" + // 24
		"```go\n" + // 25
		"$ not a command\n" + // 26
		"```\n" // 27
	blocks, err := Parse("README.md", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{
		{File: "README.md", Line: 3, Language: "console", Checked: true, Commands: []Command{
			{File: "README.md", Line: 4, Text: `C="curl -sS"`},
			{File: "README.md", Line: 5, Text: "$C -i https://localhost:8443/api/v1/x \\\n    -H 'A: b'", HTTPStatuses: []int{412}},
			{File: "README.md", Line: 11, Text: "replicactl get nope   # exit 1", ExitCode: 1},
		}},
		{File: "README.md", Line: 16, Language: "sh", Checked: true, Commands: []Command{
			{File: "README.md", Line: 18, Text: "make replicactl"},
			{File: "README.md", Line: 20, Text: "curl -X PUT https://localhost:8443/api/v1/y   # HTTP 412, 415", HTTPStatuses: []int{412, 415}},
		}},
		{File: "README.md", Line: 22, Language: "sh", Commands: []Command{
			{File: "README.md", Line: 23, Text: "make test"},
		}},
	}
	if !reflect.DeepEqual(blocks, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", blocks, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{name: "unclosed block", doc: "text\n```sh docs-check\nls\n", want: "README.md:2: the code block is never closed"},
		{name: "dangling backslash", doc: "```sh docs-check\nls \\\n```\n", want: "README.md:2: the command's last line ends with a backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("README.md", strings.NewReader(tt.doc))
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
