package otelmem

import (
	"runtime"
	"strings"
	"testing"

	"github.com/memwatch/memwatch/internal/bytefmt"
)

// TestTopAllocationsNameTheAllocatingFunction keeps 48 MiB allocated here
// and expects this function to be the top site holding it. The profile
// samples an allocation of s bytes with probability 1-exp(-s/512KiB):
// 8 MiB objects are sampled with certainty (1-e^-16), so the estimate is
// exact up to rounding, not a coin toss. The runtime sometimes makes a
// small allocation of its own inside that make (one ~100-byte sample, which
// scaling turns into ~0.5 MiB and thousands of objects), so the bounds
// allow 1 MiB and extra objects on top.
func TestTopAllocationsNameTheAllocatingFunction(t *testing.T) {
	m, _ := startWithReader(t, WithoutRuntimeInstrumentation())
	keep := make([][]byte, 6)
	for i := range keep {
		keep[i] = make([]byte, 8*mib)
	}
	// A heap profile is published at the end of a GC cycle and may lag by
	// one more: two cycles make the allocations above visible.
	runtime.GC()
	runtime.GC()
	sites, err := m.TopAllocations(5)
	runtime.KeepAlive(keep)
	if err != nil {
		t.Fatalf("TopAllocations: %v", err)
	}
	if len(sites) == 0 {
		t.Fatal("no allocation sites")
	}
	top := sites[0]
	if !strings.HasSuffix(top.Function, ".TestTopAllocationsNameTheAllocatingFunction") {
		t.Fatalf("top site %v, want this test function; all: %v", top, sites)
	}
	if !strings.HasSuffix(top.File, "alloc_test.go") || top.Line == 0 {
		t.Errorf("top site file:line = %s:%d, want alloc_test.go", top.File, top.Line)
	}
	if top.InUseBytes < 48*mib || top.InUseBytes > 49*mib {
		t.Errorf("top site holds %s, want 48 MiB (+1 MiB)", bytefmt.Bytes(top.InUseBytes))
	}
	if top.InUseObjects < 6 {
		t.Errorf("top site holds %d objects, want at least 6", top.InUseObjects)
	}
	for i := 1; i < len(sites); i++ {
		if sites[i].InUseBytes > sites[i-1].InUseBytes {
			t.Errorf("sites not sorted by in-use bytes: %v", sites)
		}
	}
}

func TestTopAllocationsN(t *testing.T) {
	m, _ := startWithReader(t, WithoutRuntimeInstrumentation())
	if _, err := m.TopAllocations(-1); err == nil || !strings.Contains(err.Error(), "-1") {
		t.Errorf("TopAllocations(-1) error = %v, want one naming -1", err)
	}
	if sites, err := m.TopAllocations(0); err != nil || len(sites) != 0 {
		t.Errorf("TopAllocations(0) = %v, %v; want none", sites, err)
	}
	if sites, _ := m.TopAllocations(2); len(sites) > 2 {
		t.Errorf("TopAllocations(2) returned %d sites", len(sites))
	}
}
