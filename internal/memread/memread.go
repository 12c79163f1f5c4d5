// Package memread is the one place memwatch reads memory: the
// runtime/metrics it uses (in one metrics.Read), the process's own RSS, the
// heap profile's allocation sites, and the checkpoint line. otelmem, spans
// and leakdetect all read through it, so they agree on names, units and
// formatting.
package memread

import (
	"runtime/metrics"
	"sync"

	"github.com/memwatch/memwatch/internal/procmem"
)

// The runtime/metrics memwatch reads.
const (
	heapLive = iota
	heapObjects
	heapObjectBytes
	heapGoal
	heapAllocs
	heapFrees
	heapFreedObjects
	stacks
	goroutines
	gcCycles
	gomemlimit
	gcCPU
	totalCPU
	count
)

// Names lists the runtime/metrics a Runtime reads, in its order.
var Names = [count]string{
	heapLive:         "/gc/heap/live:bytes",                // live heap marked by the last GC
	heapObjects:      "/gc/heap/objects:objects",           // heap objects not yet swept
	heapObjectBytes:  "/memory/classes/heap/objects:bytes", // bytes those objects occupy
	heapGoal:         "/gc/heap/goal:bytes",
	heapAllocs:       "/gc/heap/allocs:bytes", // cumulative heap bytes allocated
	heapFrees:        "/gc/heap/frees:bytes",  // cumulative heap bytes freed
	heapFreedObjects: "/gc/heap/frees:objects",
	stacks:           "/memory/classes/heap/stacks:bytes",
	goroutines:       "/sched/goroutines:goroutines",
	gcCycles:         "/gc/cycles/total:gc-cycles",
	gomemlimit:       "/gc/gomemlimit:bytes",
	gcCPU:            "/cpu/classes/gc/total:cpu-seconds", // estimated CPU time spent on GC
	totalCPU:         "/cpu/classes/total:cpu-seconds",    // available CPU time, GOMAXPROCS included
}

// Values is one reading of the runtime's memory metrics. A metric this Go
// version lacks reads 0.
type Values struct {
	HeapLive     uint64 // live heap marked by the last GC
	HeapObjects  uint64 // heap objects not yet swept
	HeapInUse    uint64 // bytes those objects occupy
	HeapGoal     uint64 // heap size at which the next GC starts
	HeapAllocs   uint64 // cumulative heap bytes allocated
	HeapFrees    uint64 // cumulative heap bytes freed
	ObjectsFreed uint64 // cumulative heap objects freed
	Stacks       uint64 // goroutine stack bytes
	Goroutines   uint64
	GCCycles     uint64  // completed GC cycles
	GOMEMLIMIT   uint64  // the runtime's soft memory limit (math.MaxInt64 when unset)
	GCCPU        float64 // cumulative CPU seconds the runtime estimates it spent on GC
	TotalCPU     float64 // cumulative CPU seconds available to the process
}

// Runtime reads Values into a buffer it owns, so a reading allocates
// nothing. It is not safe for concurrent use.
type Runtime struct {
	samples [count]metrics.Sample
}

// Read reads every metric in one metrics.Read.
func (r *Runtime) Read() Values {
	if r.samples[0].Name == "" {
		for i := range r.samples {
			r.samples[i].Name = Names[i]
		}
	}
	metrics.Read(r.samples[:])
	u := func(i int) uint64 {
		if r.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return r.samples[i].Value.Uint64()
	}
	f := func(i int) float64 {
		if r.samples[i].Value.Kind() != metrics.KindFloat64 {
			return 0
		}
		return r.samples[i].Value.Float64()
	}
	return Values{
		HeapLive: u(heapLive), HeapObjects: u(heapObjects), HeapInUse: u(heapObjectBytes),
		HeapGoal: u(heapGoal), HeapAllocs: u(heapAllocs), HeapFrees: u(heapFrees),
		ObjectsFreed: u(heapFreedObjects), Stacks: u(stacks), Goroutines: u(goroutines),
		GCCycles: u(gcCycles), GOMEMLIMIT: u(gomemlimit),
		GCCPU: f(gcCPU), TotalCPU: f(totalCPU),
	}
}

// SelfRSS is the process-wide reader of the process's own /proc statm (or
// the platform's equivalent), opened on first use and kept open. It is nil
// where memory cannot be read.
var SelfRSS = sync.OnceValue(func() *procmem.Reader {
	r, err := procmem.Open("/")
	if err != nil {
		return nil
	}
	return r
})
