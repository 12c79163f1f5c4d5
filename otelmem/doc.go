// Package otelmem makes a Go process's memory observable through
// OpenTelemetry metrics and answers memory questions directly.
//
// Start registers one observable callback that, on each collection, reads
// /proc/self/statm once (a pread on a kept-open file) and runtime/metrics
// once, and observes process.memory.usage and process.memory.virtual
// (semantic conventions), memwatch.memory.utilization and .limit,
// memwatch.heap.live and .objects, memwatch.gc.cycles, and
// memwatch.memory.baseline and .growth; in a cgroup also the cgroup's
// usage, working set, memory events and pressure (memwatch.cgroup.memory.*,
// memwatch.memory.pressure.*), and the GC's share of CPU
// (memwatch.gc.cpu.utilization). The README's "Telemetry names" lists every
// name and unit.
//
// The limit is the one that really applies: the cgroup v2 or v1 memory
// limit when one is set (gopsutil and psutil report the host's memory even
// inside a container), else GOMEMLIMIT, else the host's memory.
// WithMemoryLimitFromCgroup sets GOMEMLIMIT from the cgroup's limit.
//
// Start also starts the contrib Go runtime instrumentation
// (go.opentelemetry.io/contrib/instrumentation/runtime: go.memory.used,
// go.memory.gc.goal, go.goroutine.count, ...) on the same MeterProvider,
// unless WithoutRuntimeInstrumentation is given: once per provider, since
// it cannot be stopped and a second one would double every value; and
// reading at every collection, so its values move with memwatch's. Nothing
// here calls runtime.ReadMemStats, which stops the world.
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
// Shutdown unregisters the monitor's callback: shut the MeterProvider
// down first, so its last export still carries memory. The contrib runtime
// instrumentation keeps no handle to stop it; it stops with its
// MeterProvider.
//
// Options follow one rule in otelmem, spans and leakdetect: a nil
// provider (meter, tracer, logger provider) means the global one, as in
// OpenTelemetry's own packages; any other nil, empty or out-of-range value
// is a mistake, named with the option in an error. Start returns that
// error and starts nothing.
package otelmem
