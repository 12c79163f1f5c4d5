package otelmem

import (
	"runtime"
	"runtime/debug"
	"time"
)

// GCResult is what a forced GC gave back.
type GCResult struct {
	// HeapFreed is the heap bytes occupied by objects before minus after.
	HeapFreed int64
	// ObjectsFreed is the heap objects before minus after.
	ObjectsFreed int64
	// RSSReleased is resident memory before minus after: what went back to
	// the operating system. It can be negative when other goroutines grew
	// the process meanwhile.
	RSSReleased int64
	Duration    time.Duration
	Before      Snapshot
	After       Snapshot
}

// ForceGC runs a full garbage collection (runtime.GC) and then returns as
// much memory to the operating system as it can (debug.FreeOSMemory), and
// says what that freed. It stops the world and can take tens of
// milliseconds on a large heap: it is for leak investigations and for the
// seed's "force GC when a leak is suspected", not for a periodic path.
//
// A source that fails leaves its part of the result zero; the error says so.
func (m *Monitor) ForceGC() (GCResult, error) {
	before, procBefore, errBefore := m.read()
	start := time.Now()
	runtime.GC()
	debug.FreeOSMemory()
	d := time.Since(start)
	after, procAfter, errAfter := m.read()
	r := GCResult{
		HeapFreed:    int64(before.HeapInUse) - int64(after.HeapInUse),
		ObjectsFreed: int64(before.HeapObjects) - int64(after.HeapObjects),
		Duration:     d,
		Before:       before,
		After:        after,
	}
	if procBefore && procAfter {
		r.RSSReleased = int64(before.RSS) - int64(after.RSS)
	}
	if errBefore != nil {
		return r, errBefore
	}
	return r, errAfter
}
