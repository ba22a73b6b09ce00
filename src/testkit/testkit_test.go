package testkit

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func TestBufferKeepsEveryConcurrentWrite(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	if got := strings.Count(b.String(), "\n"); got != 8 {
		t.Fatalf("%d lines written, want 8:\n%s", got, b.String())
	}
	if string(b.Bytes()) != b.String() {
		t.Fatal("Bytes and String disagree")
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends
// the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failing runs f with a fatalRecorder and returns what it failed with.
func failing(t *testing.T, f func(testing.TB)) string {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.msg
}

func TestEventuallyReturnsOnceTheCheckPasses(t *testing.T) {
	calls := 0
	Eventually(t, time.Minute, "third call", func() error {
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if calls != 3 {
		t.Fatalf("check called %d times, want 3", calls)
	}
}

func TestEventuallyFailsWithWhatAndTheLastError(t *testing.T) {
	msg := failing(t, func(tb testing.TB) {
		Eventually(tb, 20*time.Millisecond, "the thing happens", func() error { return errors.New("still off") })
	})
	for _, want := range []string{"the thing happens", "20ms", "still off"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failure %q does not say %q", msg, want)
		}
	}
}

func TestEventuallyTrueFailsWhenTheConditionStaysFalse(t *testing.T) {
	msg := failing(t, func(tb testing.TB) {
		EventuallyTrue(tb, 20*time.Millisecond, "the flag is set", func() bool { return false })
	})
	if !strings.Contains(msg, "the flag is set") {
		t.Fatalf("failure %q does not say what was awaited", msg)
	}
}

func TestSampleMatchesTheExactLabelSet(t *testing.T) {
	label := func(k, v string) *dto.LabelPair { return &dto.LabelPair{Name: new(k), Value: new(v)} }
	f := &dto.MetricFamily{Metric: []*dto.Metric{
		{Label: []*dto.LabelPair{label("code", "200")}, Counter: &dto.Counter{Value: new(float64(3))}},
		{Label: []*dto.LabelPair{label("code", "200"), label("route", "x")}, Gauge: &dto.Gauge{Value: new(float64(5))}},
		{Histogram: &dto.Histogram{SampleCount: new(uint64(7))}},
	}}
	for _, tt := range []struct {
		labels []string
		want   float64
		found  bool
	}{
		{labels: []string{"code=200"}, want: 3, found: true},
		{labels: []string{"route=x", "code=200"}, want: 5, found: true},
		{labels: nil, want: 7, found: true},
		{labels: []string{"code=500"}, found: false},
		{labels: []string{"route=x"}, found: false},
	} {
		got, found := Sample(f, tt.labels...)
		if got != tt.want || found != tt.found {
			t.Errorf("Sample(%q) = %v, %v, want %v, %v", tt.labels, got, found, tt.want, tt.found)
		}
	}
	if _, found := Sample(nil, "code=200"); found {
		t.Error("Sample of a missing family found a series")
	}
}
