package proc

import (
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    CPU
		wantErr bool
	}{
		{
			name: "plain",
			line: "1234 (replicasd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 100 0 0",
			want: CPU{User: 2500 * time.Millisecond, System: 750 * time.Millisecond},
		},
		{
			name: "command with spaces and parentheses",
			line: "77 (kube (api) server) R 1 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 0 0",
			want: CPU{User: 30 * time.Millisecond, System: 40 * time.Millisecond},
		},
		{name: "truncated", line: "1 (x) S 1 2 3", wantErr: true},
		{name: "no command", line: "garbage", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSelf(t *testing.T) {
	before, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	after, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if after.Sub(before) < 0 {
		t.Errorf("CPU time went backwards: %v then %v", before, after)
	}
}
