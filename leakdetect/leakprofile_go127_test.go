//go:build go1.27

package leakdetect

import (
	"strings"
	"testing"
)

// leakOnUnreachableChannel starts n goroutines that wait forever on a
// channel only they hold: the goroutineleak profile proves them leaked.
//
//go:noinline
func leakOnUnreachableChannel(n int) {
	for range n {
		ch := make(chan int)
		go func() { <-ch }()
	}
}

// TestLeakedGoroutinesNameTheLeak: built with Go 1.27, the goroutineleak
// profile's stacks name the function whose goroutines leaked.
func TestLeakedGoroutinesNameTheLeak(t *testing.T) {
	leakOnUnreachableChannel(20)
	stacks, ok, err := leakedGoroutines(5)
	if err != nil || !ok {
		t.Fatalf("leakedGoroutines: ok %v, %v", ok, err)
	}
	found := false
	for _, s := range stacks {
		if strings.Contains(s, "leakOnUnreachableChannel") && strings.HasPrefix(s, "20 ×") {
			found = true
		}
	}
	if !found {
		t.Errorf("leaked stacks %q do not name the 20 goroutines of leakOnUnreachableChannel", stacks)
	}
}
