package otelmem

import (
	"runtime/debug"
	"time"

	"github.com/memwatch/memwatch/internal/memread"
)

// GCResult is what a forced GC gave back.
type GCResult struct {
	// HeapFreed is the heap bytes the collection freed.
	HeapFreed int64
	// ObjectsFreed is the heap objects the collection freed.
	ObjectsFreed int64
	// RSSReleased is resident memory before minus after: what went back to
	// the operating system. It can be negative when other goroutines grew
	// the process meanwhile.
	RSSReleased int64
	Duration    time.Duration
	Before      Snapshot
	After       Snapshot
}

// ForceGC runs one full garbage collection and returns as much memory to
// the operating system as it can (debug.FreeOSMemory, which collects
// itself: a runtime.GC before it would collect twice, at twice the cost),
// and says what that cycle freed. It stops the world and can take tens of
// milliseconds on a large heap: it is for leak investigations and for the
// "force a GC when a leak is suspected", not for a periodic path.
//
// A source that fails leaves its part of the result zero; the error says so.
func (m *Monitor) ForceGC() (GCResult, error) {
	before, errBefore := m.read()
	start := time.Now()
	debug.FreeOSMemory() // one full collection, then the scavenge
	d := time.Since(start)
	after, errAfter := m.read()
	// What the cycle's sweep freed, counted as it frees: the live-object
	// gauges lag (objects allocated since the last cycle are not all in
	// them yet), so before minus after would undercount a first cycle.
	r := GCResult{
		HeapFreed:    int64(after.rt.HeapFrees - before.rt.HeapFrees),
		ObjectsFreed: int64(after.rt.ObjectsFreed - before.rt.ObjectsFreed),
		Duration:     d,
		Before:       before.Snapshot,
		After:        after.Snapshot,
	}
	if before.procOK && after.procOK {
		r.RSSReleased = int64(before.RSS) - int64(after.RSS)
	}
	if errBefore != nil {
		return r, errBefore
	}
	return r, errAfter
}

// gcShare is the GC's share of the CPU time available since the previous
// collection (since the process started, at the first). The runtime adds
// to its CPU estimates only when a GC ends, so between two collections
// with no GC in between nothing has moved: the share of the last span the
// runtime measured is reported again rather than nothing; before the
// first cycle the share is 0.
func (m *Monitor) gcShare(rt memread.Values) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dGC, dTotal := rt.GCCPU-m.prevGCCPU, rt.TotalCPU-m.prevTotalCPU
	if dTotal > 0 && dGC >= 0 {
		m.prevGCCPU, m.prevTotalCPU = rt.GCCPU, rt.TotalCPU
		m.gcShareLast, m.gcShareKnown = min(dGC/dTotal, 1), true
	}
	if !m.gcShareKnown && rt.GCCycles == 0 {
		return 0, true // no cycle yet: the GC has taken no CPU
	}
	return m.gcShareLast, m.gcShareKnown
}
