package otelmem

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/memwatch/memwatch/internal/bytefmt"
)

func TestStartRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"zero refresh", WithLimitRefreshInterval(0), "WithLimitRefreshInterval(0s)"},
		{"negative refresh", WithLimitRefreshInterval(-time.Second), "WithLimitRefreshInterval(-1s)"},
		{"nil logger", WithLogger(nil), "WithLogger"},
		{"empty root", WithFSRoot(""), `WithFSRoot("")`},
		{"no limit ratio", WithMemoryLimitFromCgroup(0), "WithMemoryLimitFromCgroup(0): ratio must be in (0, 1]"},
		{"limit ratio over 1", WithMemoryLimitFromCgroup(1.5), "WithMemoryLimitFromCgroup(1.5)"},
		{"limit ratio NaN", WithMemoryLimitFromCgroup(math.NaN()), "WithMemoryLimitFromCgroup(NaN)"},
		{"nil option", nil, "nil Option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Start(tt.opt)
			if err == nil {
				_ = m.Shutdown(context.Background())
				t.Fatal("Start succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
		})
	}
}

func TestNilMeterProviderIsIgnored(t *testing.T) {
	m, err := Start(WithMeterProvider(nil), WithoutRuntimeInstrumentation())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestInstruments checks every instrument's name, unit and kind as
// semantic conventions and the package doc define them.
func TestInstruments(t *testing.T) {
	_, reader := startWithReader(t, WithoutRuntimeInstrumentation(), WithFSRoot(fakeRoot(t, containerFiles)))
	rm := collect(t, reader)
	if len(rm.ScopeMetrics) != 1 || rm.ScopeMetrics[0].Scope.Name != ScopeName || rm.ScopeMetrics[0].Scope.Version != Version {
		t.Fatalf("scopes = %+v, want only %s %s", rm.ScopeMetrics, ScopeName, Version)
	}
	want := []shape{
		{"process.memory.usage", "By", "updowncounter", 1},
		{"process.memory.virtual", "By", "updowncounter", 1},
		{metricUtilization, "1", "gauge", 1},
		{metricLimit, "By", "gauge", 2}, // memory.max and memory.high
		{metricHeapLive, "By", "updowncounter", 1},
		{metricHeapObjects, "{object}", "updowncounter", 1},
		{metricGCCycles, "{gc_cycle}", "counter", 1},
		{metricBaseline, "By", "gauge", 2},
		{metricGrowth, "By", "gauge", 2},
		{metricCgroupUsage, "By", "updowncounter", 1},
		{metricCgroupWorkingSet, "By", "updowncounter", 1},
		{metricCgroupUtilization, "1", "gauge", 1},
		{metricCgroupEvents, "{event}", "counter", 5},
		{metricPressureStall, "s", "counter", 2},
		{metricPressureAvg10, "1", "gauge", 2},
		{metricGCCPU, "1", "gauge", 1},
	}
	var got []shape
	for _, m := range rm.ScopeMetrics[0].Metrics {
		got = append(got, shapeOf(m))
	}
	if !slices.Equal(got, want) {
		t.Errorf("instruments:\n got %v\nwant %v", got, want)
	}
}

// shape is what a metric looks like to a backend, without its values.
type shape struct {
	Name, Unit, Kind string
	Points           int
}

func shapeOf(m metricdata.Metrics) shape {
	s := shape{Name: m.Name, Unit: m.Unit}
	switch d := m.Data.(type) {
	case metricdata.Gauge[int64]:
		s.Kind, s.Points = "gauge", len(d.DataPoints)
	case metricdata.Gauge[float64]:
		s.Kind, s.Points = "gauge", len(d.DataPoints)
	case metricdata.Sum[float64]:
		s.Kind, s.Points = "updowncounter", len(d.DataPoints)
		if d.IsMonotonic {
			s.Kind = "counter"
		}
	case metricdata.Sum[int64]:
		s.Kind, s.Points = "updowncounter", len(d.DataPoints)
		if d.IsMonotonic {
			s.Kind = "counter"
		}
		if d.Temporality != metricdata.CumulativeTemporality {
			s.Kind += "(delta)"
		}
	default:
		s.Kind = fmt.Sprintf("%T", d)
	}
	return s
}

func TestRuntimeInstrumentationOnSameProvider(t *testing.T) {
	_, reader := startWithReader(t)
	rm := collect(t, reader)
	const contrib = "go.opentelemetry.io/contrib/instrumentation/runtime"
	for _, name := range []string{"go.memory.used", "go.memory.gc.goal", "go.goroutine.count"} {
		if _, ok := findMetric(rm, contrib, name); !ok {
			t.Errorf("contrib runtime metric %s not collected", name)
		}
	}
}

// TestRealMemoryGrowth keeps 64 MiB live and checks that RSS, live heap and
// the growth gauges rise by about that much. The live heap is exact up to
// allocator rounding (±4 MiB). RSS must rise by at least 7/8 of it (every
// page is written) and at most 2x more: the GC and the allocator add their
// own pages. Under the race detector shadow memory adds a multiple, so the
// upper bound is wider there.
func TestRealMemoryGrowth(t *testing.T) {
	const size = 64 * mib
	runtime.GC()
	m, reader := startWithReader(t, WithoutRuntimeInstrumentation())
	// Give free heap pages back to the OS so the allocation below faults in
	// fresh ones, and the scavenger has nothing to release meanwhile.
	debug.FreeOSMemory()
	before := collect(t, reader)

	keep := liveBytes(size)
	runtime.GC() // the live heap is measured by a completed GC
	after := collect(t, reader)
	snap, err := m.Snapshot()
	runtime.KeepAlive(keep)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}

	maxRSS := int64(3 * size)
	if raceEnabled {
		maxRSS = 4 * size
	}
	rss := intValue(t, after, "process.memory.usage", "", "") - intValue(t, before, "process.memory.usage", "", "")
	if rss < size*7/8 || rss > maxRSS {
		t.Errorf("process.memory.usage rose %s, want %s..%s", bytefmt.Bytes(rss), bytefmt.Bytes(size*7/8), bytefmt.Bytes(maxRSS))
	}
	heap := intValue(t, after, metricHeapLive, "", "") - intValue(t, before, metricHeapLive, "", "")
	if heap < size-4*mib || heap > size+4*mib {
		t.Errorf("memwatch.heap.live rose %s, want %s ± 4 MiB", bytefmt.Bytes(heap), bytefmt.Bytes(size))
	}
	t.Logf("kept %s live: RSS rose %s, live heap rose %s", bytefmt.Bytes(size), bytefmt.Bytes(rss), bytefmt.Bytes(heap))
	growth := intValue(t, after, metricGrowth, string(attrMemoryType), "rss")
	if growth < size*7/8 || growth > maxRSS+16*mib {
		t.Errorf("memwatch.memory.growth{rss} = %s, want about %s", bytefmt.Bytes(growth), bytefmt.Bytes(size))
	}
	heapGrowth := intValue(t, after, metricGrowth, string(attrMemoryType), "heap_live")
	if heapGrowth < size-4*mib || heapGrowth > size+8*mib {
		t.Errorf("memwatch.memory.growth{heap_live} = %s, want about %s", bytefmt.Bytes(heapGrowth), bytefmt.Bytes(size))
	}
	if snap.Delta < size*7/8 || snap.HeapLiveDelta < size-4*mib {
		t.Errorf("Snapshot deltas rss %s heap %s, want about %s", bytefmt.Delta(snap.Delta), bytefmt.Delta(snap.HeapLiveDelta), bytefmt.Bytes(size))
	}

	// After Rebaseline the growth starts again from zero.
	if _, err := m.Rebaseline(); err != nil {
		t.Fatalf("Rebaseline: %v", err)
	}
	again := collect(t, reader)
	runtime.KeepAlive(keep)
	if g := intValue(t, again, metricGrowth, string(attrMemoryType), "heap_live"); g > 4*mib || g < -4*mib {
		t.Errorf("heap_live growth after Rebaseline = %s, want about 0", bytefmt.Delta(g))
	}
	if b := intValue(t, again, metricBaseline, string(attrMemoryType), "heap_live"); b < size {
		t.Errorf("heap_live baseline after Rebaseline = %s, want at least %s", bytefmt.Bytes(b), bytefmt.Bytes(size))
	}
}

func TestShutdownOnceConcurrently(t *testing.T) {
	m, reader := startWithReader(t, WithoutRuntimeInstrumentation())
	const callers = 8
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { errs[i] = m.Shutdown(context.Background()) })
	}
	wg.Wait()
	var ok, later int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrShutdown):
			later++
		default:
			t.Errorf("Shutdown: %v", err)
		}
	}
	if ok != 1 || later != callers-1 {
		t.Errorf("Shutdown returned nil %d times and ErrShutdown %d times, want 1 and %d", ok, later, callers-1)
	}
	rm := collect(t, reader)
	if len(rm.ScopeMetrics) != 0 {
		t.Errorf("after Shutdown the callback still observes: %+v", rm.ScopeMetrics)
	}
	if _, err := m.Snapshot(); !errors.Is(err, ErrShutdown) {
		t.Errorf("Snapshot after Shutdown: %v, want ErrShutdown", err)
	}
}

func TestConcurrentReadsAndCollections(t *testing.T) {
	m, reader := startWithReader(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, err := m.Snapshot(); err != nil {
					t.Errorf("Snapshot: %v", err)
					return
				}
				var rm metricdata.ResourceMetrics
				if err := reader.Collect(context.Background(), &rm); err != nil {
					t.Errorf("Collect: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestSnapshotDoesNotAllocate pins the steady-state promise: with the limit
// already read (the injected clock never reaches the refresh interval), a
// Snapshot allocates nothing.
func TestSnapshotDoesNotAllocate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m, _ := startWithReader(t, WithoutRuntimeInstrumentation(), withClock(func() time.Time { return now }))
	if _, err := m.Snapshot(); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = m.Snapshot() }); n != 0 {
		t.Errorf("Snapshot allocates %v times per call, want 0", n)
	}
}
