//go:build go1.27

package leakdetect

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

// leakOnUnreachableChannel starts n goroutines that wait forever on a
// channel only they hold: the goroutineleak profile proves them leaked.
//
//go:noinline
func leakOnUnreachableChannel(n int) {
	var started sync.WaitGroup
	for range n {
		ch := make(chan int)
		started.Add(1)
		go func() {
			started.Done()
			<-ch
		}()
	}
	started.Wait()
}

// TestLeakedGoroutinesNameTheLeak: built with Go 1.27, the goroutineleak
// profile's stacks name the function whose goroutines leaked.
func TestLeakedGoroutinesNameTheLeak(t *testing.T) {
	leakOnUnreachableChannel(20)
	// A goroutine counts as leaked once it is parked on the channel, which
	// a loaded machine may take a moment to get to: look again until all
	// 20 are (or give up after many tries).
	var stacks []string
	found := false
	for try := 0; try < 200 && !found; try++ {
		var ok bool
		var err error
		stacks, ok, err = leakedGoroutines(5)
		if err != nil || !ok {
			t.Fatalf("leakedGoroutines: ok %v, %v", ok, err)
		}
		for _, s := range stacks {
			if strings.Contains(s, "leakOnUnreachableChannel") && strings.HasPrefix(s, "20 ×") {
				found = true
			}
		}
		if !found {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !found {
		t.Errorf("leaked stacks %q do not name the 20 goroutines of leakOnUnreachableChannel", stacks)
	}
}

// TestGoroutineFindingAttachesLeakedStacks: built with Go 1.27, a goroutine
// finding's attributes carry the goroutineleak profile's stacks.
func TestGoroutineFindingAttachesLeakedStacks(t *testing.T) {
	leakOnUnreachableChannel(7)
	h := startHarness(t)
	for try := 0; try < 200; try++ {
		attrs := h.d.profileAttrs(Finding{Signal: SignalGoroutines}, scenario.Start)
		if v, ok := eventAttr(attrs, attrLeakedGoroutines); ok && strings.Contains(strings.Join(v.AsStringSlice(), "\n"), "leakOnUnreachableChannel") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("the goroutine finding has no leaked stacks naming leakOnUnreachableChannel")
}
