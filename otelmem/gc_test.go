package otelmem

import (
	"runtime/debug"
	"testing"

	"github.com/memwatch/memwatch/internal/bytefmt"
)

// garbage allocates n bytes in 64 KiB objects and drops them.
//
//go:noinline
func garbage(n int) {
	var sink [][]byte
	for range n / (64 << 10) {
		sink = append(sink, make([]byte, 64<<10))
	}
	_ = sink
}

// TestForceGCReportsFreedGarbage makes 64 MiB of garbage with automatic GC
// switched off, so nothing but ForceGC can free it, and expects at least
// 7/8 of it reported freed (the rest may be in objects ForceGC's own
// bookkeeping keeps). RSS given back is not asserted: whether the kernel
// reclaims the pages at once depends on the machine.
func TestForceGCReportsFreedGarbage(t *testing.T) {
	m, _ := startWithReader(t, WithoutRuntimeInstrumentation())
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	garbage(64 * mib)
	r, err := m.ForceGC()
	if err != nil {
		t.Fatalf("ForceGC: %v", err)
	}
	if r.HeapFreed < 56*mib {
		t.Errorf("HeapFreed = %s, want at least %s", bytefmt.Bytes(r.HeapFreed), bytefmt.Bytes(56*mib))
	}
	if r.ObjectsFreed < 64*mib/(64<<10) {
		t.Errorf("ObjectsFreed = %d, want at least %d", r.ObjectsFreed, 64*mib/(64<<10))
	}
	// GOGC is off for this test, so no collection but ForceGC's runs:
	// exactly one (runtime.GC before debug.FreeOSMemory made it two).
	if r.After.GCCycles != r.Before.GCCycles+1 {
		t.Errorf("GC cycles %d -> %d: want exactly one collection", r.Before.GCCycles, r.After.GCCycles)
	}
	if r.Duration <= 0 {
		t.Errorf("Duration = %v", r.Duration)
	}
	t.Logf("freed %s heap, %d objects, %s RSS in %v", bytefmt.Bytes(r.HeapFreed), r.ObjectsFreed, bytefmt.Delta(r.RSSReleased), r.Duration)
}
