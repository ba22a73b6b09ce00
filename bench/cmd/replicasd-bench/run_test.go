package main

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestToggler(t *testing.T) {
	tg := &toggler{names: []string{"a", "b"}, state: map[string]int32{}}
	var got []string
	for range 6 {
		name, v := tg.take()
		got = append(got, name+"="+string(rune('0'+v)))
	}
	// Round robin, and each Deployment alternates, so every PUT changes it.
	want := []string{"a=1", "b=1", "a=0", "b=0", "a=1", "b=1"}
	if !slices.Equal(got, want) {
		t.Errorf("takes = %v, want %v", got, want)
	}
}

func TestTogglerConcurrent(t *testing.T) {
	tg := &toggler{names: []string{"a", "b", "c"}, state: map[string]int32{}}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 250 {
				tg.take()
			}
		})
	}
	wg.Wait()
	if tg.next != 1000 {
		t.Errorf("%d takes counted, want 1000", tg.next)
	}
}

func TestQuantiles(t *testing.T) {
	var v []float64
	for i := 100; i >= 1; i-- {
		v = append(v, float64(i))
	}
	q := quantiles(v, "test")
	if q.Count != 100 || q.P50Ms != 50 || q.P99Ms != 99 || q.MeanMs != 50.5 {
		t.Errorf("quantiles = %+v", q)
	}
	if q := quantiles(nil, "none"); q.Count != 0 || q.P99Ms != 0 {
		t.Errorf("quantiles of nothing = %+v", q)
	}
}

func TestParseInts(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "1000,10000", want: []int{1000, 10000}},
		{in: " 5 , 7 ,", want: []int{5, 7}},
		{in: "1000,x", wantErr: true},
		{in: "0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseInts(tt.in)
			if (err != nil) != tt.wantErr || (!tt.wantErr && !slices.Equal(got, tt.want)) {
				t.Errorf("parseInts(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseRunFlagsReportsEveryProblem(t *testing.T) {
	_, err := parseRunFlags([]string{"--runs", "0", "--sizes", "x"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"--sizes", "--runs", "--kubeconfig is required", "--pki-dir is required", "--certs is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
