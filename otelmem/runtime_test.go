package otelmem

import (
	"context"
	goruntime "runtime"
	"runtime/debug"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/runtime"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// TestRestartKeepsRuntimeMetricsSingle: ten Start and Shutdown cycles on
// one provider leave go.config.gogc and go.goroutine.count reading what
// one instrumentation reads, not ten times it.
func TestRestartKeepsRuntimeMetricsSingle(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	gogc := debug.SetGCPercent(100)
	defer debug.SetGCPercent(gogc)
	for range 10 {
		m, err := Start(WithMeterProvider(mp))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	rm := collect(t, reader)
	g, ok := findMetric(rm, runtime.ScopeName, "go.config.gogc")
	if !ok {
		t.Fatal("no go.config.gogc")
	}
	if pts := g.Data.(metricdata.Sum[int64]).DataPoints; len(pts) != 1 || pts[0].Value != 100 {
		t.Errorf("go.config.gogc = %v after 10 restarts, want one point of 100", pts)
	}
	m, ok := findMetric(rm, runtime.ScopeName, "go.goroutine.count")
	if !ok {
		t.Fatal("no go.goroutine.count")
	}
	if n := len(m.Data.(metricdata.Sum[int64]).DataPoints); n != 1 {
		t.Errorf("go.goroutine.count has %d points, want 1", n)
	}
}

// TestRuntimeStartedPerProvider: a second provider gets its own runtime
// metrics; the first keeps its own.
func TestRuntimeStartedPerProvider(t *testing.T) {
	for range 2 {
		_, reader := startWithReader(t)
		if _, ok := findMetric(collect(t, reader), runtime.ScopeName, "go.goroutine.count"); !ok {
			t.Error("a fresh provider has no go.goroutine.count")
		}
	}
}

// TestGCShareBetweenGCs: two collections with no GC between both carry
// memwatch.gc.cpu.utilization (the runtime's CPU estimates move only at a
// GC's end).
func TestGCShareBetweenGCs(t *testing.T) {
	_, reader := startWithReader(t)
	gogc := debug.SetGCPercent(-1) // no GC between the collections
	defer debug.SetGCPercent(gogc)
	goruntime.GC()
	for i := range 2 {
		if _, ok := findMetric(collect(t, reader), ScopeName, metricGCCPU); !ok {
			t.Errorf("collection %d has no %s", i+1, metricGCCPU)
		}
	}
}

// TestProviderShutdownFirstExportsMemory: with the provider shut down
// before the monitor (the documented order), the final export carries
// process.memory.usage, and the monitor's Shutdown after it succeeds.
func TestProviderShutdownFirstExportsMemory(t *testing.T) {
	exp := &lastExport{}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
	m, err := Start(WithMeterProvider(mp), WithoutRuntimeInstrumentation())
	if err != nil {
		t.Fatal(err)
	}
	if err := mp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Shutdown(context.Background()); err != nil {
		t.Errorf("monitor Shutdown after the provider's: %v", err)
	}
	if _, ok := findMetric(exp.rm, ScopeName, "process.memory.usage"); !ok {
		t.Error("the final export lacks process.memory.usage")
	}
}

// lastExport keeps the last export.
type lastExport struct{ rm metricdata.ResourceMetrics }

func (*lastExport) Temporality(sdkmetric.InstrumentKind) metricdata.Temporality {
	return metricdata.CumulativeTemporality
}
func (*lastExport) Aggregation(k sdkmetric.InstrumentKind) sdkmetric.Aggregation {
	return sdkmetric.DefaultAggregationSelector(k)
}
func (e *lastExport) Export(_ context.Context, rm *metricdata.ResourceMetrics) error {
	e.rm = *rm
	return nil
}
func (*lastExport) ForceFlush(context.Context) error { return nil }
func (*lastExport) Shutdown(context.Context) error   { return nil }

// TestRuntimeMetricsMoveEveryCollection: go.goroutine.count follows the
// goroutines started between two collections a moment apart, instead of
// repeating the first reading for contrib's default 15 s.
func TestRuntimeMetricsMoveEveryCollection(t *testing.T) {
	_, reader := startWithReader(t)
	count := func() int64 {
		m, ok := findMetric(collect(t, reader), runtime.ScopeName, "go.goroutine.count")
		if !ok {
			t.Fatal("no go.goroutine.count")
		}
		return m.Data.(metricdata.Sum[int64]).DataPoints[0].Value
	}
	before := count()
	stop := make(chan struct{})
	var started sync.WaitGroup
	for range 50 {
		started.Add(1)
		go func() {
			started.Done()
			<-stop
		}()
	}
	started.Wait()
	after := count()
	close(stop)
	if after < before+50 {
		t.Errorf("go.goroutine.count %d, then %d after starting 50 goroutines: the reading did not move", before, after)
	}
}
