// Package rtmetrics names the runtime/metrics memwatch reads and reads
// their values, so otelmem and spans agree on both.
package rtmetrics

import "runtime/metrics"

// The runtime/metrics memwatch reads.
const (
	HeapLive        = "/gc/heap/live:bytes"                // live heap marked by the last GC
	HeapObjects     = "/gc/heap/objects:objects"           // heap objects not yet swept
	HeapObjectBytes = "/memory/classes/heap/objects:bytes" // bytes those objects occupy
	HeapGoal        = "/gc/heap/goal:bytes"
	HeapAllocs      = "/gc/heap/allocs:bytes" // cumulative heap bytes allocated
	Stacks          = "/memory/classes/heap/stacks:bytes"
	Goroutines      = "/sched/goroutines:goroutines"
	GCCycles        = "/gc/cycles/total:gc-cycles"
	GOMEMLIMIT      = "/gc/gomemlimit:bytes"
)

// Uint returns a sample's value, 0 when this Go version lacks the metric.
func Uint(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
