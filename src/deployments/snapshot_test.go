package deployments

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func TestListReusesItsSortedViewUntilAChange(t *testing.T) {
	f := newFixture(t, deployment("a", "web", 1, nil), deployment("b", "db", 2, nil))
	c := startCache(t, f, CacheConfig{})

	first, err := c.List("", nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.List("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if &first[0] != &again[0] {
		t.Error("a second List of an unchanged cache sorted again instead of reusing the view")
	}

	rv := f.mustUpdate("b", "db", func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(7)) })
	if _, err := c.WaitForDeployment(context.Background(), "b", "db", rv); err != nil {
		t.Fatal(err)
	}
	after, err := c.List("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if &after[0] == &first[0] {
		t.Error("List after a change returned the old view")
	}
	if got := after[1].Replicas; got != 7 {
		t.Errorf("List after the change shows b/db with %d replicas, want 7", got)
	}
}

// TestListShowsWhatTheStoreShows checks read-your-writes through the
// sorted view: once WaitForDeployment sees a write (it reads the store,
// possibly before the event handler ran), List shows it too, while other
// goroutines keep rebuilding views concurrently.
func TestListShowsWhatTheStoreShows(t *testing.T) {
	var objs []*appsv1.Deployment
	for i := range 50 {
		objs = append(objs, deployment(fmt.Sprintf("ns-%d", i%3), fmt.Sprintf("d-%02d", i), 0, nil))
	}
	f := newFixture(t, objs...)
	c := startCache(t, f, CacheConfig{})

	ctx, cancel := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for ctx.Err() == nil {
				if _, err := c.List("", nil); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	defer func() {
		cancel()
		readers.Wait()
	}()

	for i := range 100 {
		d := objs[i%len(objs)]
		want := int32(i + 1)
		rv := f.mustUpdate(d.Namespace, d.Name, func(d *appsv1.Deployment) { d.Spec.Replicas = new(want) })
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.WaitForDeployment(wctx, d.Namespace, d.Name, rv)
		wcancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, namespace := range []string{"", d.Namespace} {
			list, err := c.List(namespace, nil)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(list, func(x *Deployment) bool { return x.Name == d.Name && x.Namespace == d.Namespace })
			if i < 0 || list[i].Replicas != want {
				t.Fatalf("write %d: List(%q) does not show %s/%s at %d replicas after WaitForDeployment saw it", i, namespace, d.Namespace, d.Name, want)
			}
		}
	}
}

func TestListResultsDoNotShareSpareCapacity(t *testing.T) {
	f := newFixture(t,
		deployment("a", "one", 1, nil),
		deployment("b", "two", 1, nil),
		deployment("c", "three", 1, nil),
	)
	c := startCache(t, f, CacheConfig{})
	tests := []struct {
		name      string
		namespace string
	}{
		{name: "all namespaces", namespace: ""},
		{name: "a namespace in the middle", namespace: "b"},
		{name: "the first namespace", namespace: "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.List(tt.namespace, labels.Everything())
			if err != nil {
				t.Fatal(err)
			}
			_ = append(got, &Deployment{Namespace: "z", Name: "intruder"})
			all, err := c.List("", nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"a/one", "b/two", "c/three"}; !slices.Equal(names(all), want) {
				t.Errorf("after appending to a List result, List = %v, want %v", names(all), want)
			}
		})
	}
}

func TestNamespaceRange(t *testing.T) {
	sorted := []*Deployment{
		{Namespace: "a", Name: "x"}, {Namespace: "b", Name: "x"}, {Namespace: "b", Name: "y"}, {Namespace: "d", Name: "x"},
	}
	tests := []struct {
		name      string
		namespace string
		want      []string
	}{
		{name: "first", namespace: "a", want: []string{"a/x"}},
		{name: "middle, two items", namespace: "b", want: []string{"b/x", "b/y"}},
		{name: "last", namespace: "d", want: []string{"d/x"}},
		{name: "absent, between", namespace: "c", want: []string{}},
		{name: "absent, after", namespace: "e", want: []string{}},
		{name: "absent, before", namespace: "0", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := namespaceRange(sorted, tt.namespace)
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("namespaceRange(%q) = %v, want %v", tt.namespace, names(got), tt.want)
			}
			if cap(got) != len(got) {
				t.Errorf("namespaceRange(%q) has spare capacity %d", tt.namespace, cap(got)-len(got))
			}
		})
	}
}
