// Package otelmem makes a Go process's memory observable through
// OpenTelemetry metrics and answers memory questions directly.
//
// Start registers one observable callback that, on each collection, reads
// /proc/self/statm once (a pread on a kept-open file) and runtime/metrics
// once, and observes:
//
//	process.memory.usage        By        resident set size (semantic conventions)
//	process.memory.virtual      By        committed virtual memory (semantic conventions)
//	memwatch.memory.utilization  1         RSS / memwatch.memory.limit
//	memwatch.memory.limit       By        the limit that applies, memwatch.memory.limit.source=cgroup|gomemlimit|host
//	memwatch.heap.live          By        live heap marked by the last GC (/gc/heap/live:bytes)
//	memwatch.heap.objects       {object}  heap objects not yet swept
//	memwatch.gc.cycles          {gc_cycle} completed GC cycles (counter)
//	memwatch.memory.baseline    By        memory at the baseline, memwatch.memory.type=rss|heap_live
//	memwatch.memory.growth      By        memory over the baseline, memwatch.memory.type=rss|heap_live
//
// The limit is the one that really applies: the cgroup v2 or v1 memory
// limit when one is set (gopsutil and psutil report the host's memory even
// inside a container), else GOMEMLIMIT, else the host's memory.
//
// Start also starts the contrib Go runtime instrumentation
// (go.opentelemetry.io/contrib/instrumentation/runtime: go.memory.used,
// go.memory.gc.goal, go.goroutine.count, ...) on the same MeterProvider,
// unless WithoutRuntimeInstrumentation is given. Nothing here calls
// runtime.ReadMemStats, which stops the world.
//
// The Monitor also answers the questions of a memory investigation, with
// bytes as integers: Snapshot (cheap, allocation-free), TopAllocations (the
// tracemalloc analogue, from the heap profile), ForceGC, Report,
// WriteHeapProfile and LogCheckpoint. The baseline is taken at Start;
// call Rebaseline when warm-up ends.
//
//	mon, err := otelmem.Start(otelmem.WithMeterProvider(mp))
//	if err != nil {
//		return err
//	}
//	defer mon.Shutdown(context.Background())
//	mon.LogCheckpoint(ctx, "After DB pool init")
//
// Shutdown unregisters the monitor's callback. The contrib runtime
// instrumentation keeps no handle to stop it; it stops with its
// MeterProvider.
package otelmem
