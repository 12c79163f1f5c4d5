//go:build !go1.27

package leakdetect

import (
	"testing"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

// TestNoLeakedStacksBeforeGo127: without the goroutineleak profile a
// goroutine finding says nothing about leaked goroutines, and no error.
func TestNoLeakedStacksBeforeGo127(t *testing.T) {
	h := startHarness(t)
	attrs := h.d.profileAttrs(Finding{Signal: SignalGoroutines}, scenario.Start)
	if _, ok := eventAttr(attrs, attrLeakedGoroutines); ok {
		t.Errorf("leaked stacks without Go 1.27: %v", attrs)
	}
	if _, ok := eventAttr(attrs, attrGoroutines); !ok {
		t.Errorf("no pile-up stacks: %v", attrs)
	}
}
