package otelmem

import (
	"context"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v3/process"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/memwatch/memwatch/internal/cgroup"
	"github.com/memwatch/memwatch/internal/memread"
)

// BenchmarkSnapshot compares Snapshot with its floor: the fastest direct
// reads of the same numbers (a pread of a kept-open /proc/self/statm, one
// runtime/metrics.Read of the same samples and the clock; no parsing,
// so the floor is if anything too low) and with gopsutil,
// which psutil-style monitors map to. Run it through .ci/bench for the ratios.
func BenchmarkSnapshot(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		f, err := os.Open("/proc/self/statm")
		if err != nil {
			b.Skip(err)
		}
		defer f.Close()
		samples := make([]metrics.Sample, len(memread.Names))
		for i, n := range memread.Names {
			samples[i].Name = n
		}
		var buf [128]byte
		b.ReportAllocs()
		for b.Loop() {
			_ = time.Now()
			_, _ = f.ReadAt(buf[:], 0)
			metrics.Read(samples)
		}
	})
	b.Run("snapshot", func(b *testing.B) {
		m, err := Start(WithoutRuntimeInstrumentation())
		if err != nil {
			b.Fatal(err)
		}
		defer m.Shutdown(context.Background())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Snapshot(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gopsutil-meminfo", func(b *testing.B) {
		p, err := process.NewProcess(int32(os.Getpid()))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.MemoryInfo(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCollection prices one collection of memwatch's own instruments
// against its floor: a baseline callback that does the same fresh reads (a
// pread of a kept-open /proc/self/statm, one runtime/metrics.Read of the
// same metrics, and this machine's cgroup memory, events and pressure
// files through the same readers) and observes as many points as memwatch
// does here, with attribute sets built in advance. Each runs on its own
// MeterProvider and ManualReader.
func BenchmarkCollection(b *testing.B) {
	collect := func(b *testing.B, reader *sdkmetric.ManualReader) int {
		var rm metricdata.ResourceMetrics
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := reader.Collect(ctx, &rm); err != nil {
				b.Fatal(err)
			}
		}
		return points(rm)
	}
	start := func(b *testing.B, opts ...Option) *sdkmetric.ManualReader {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
		m, err := Start(append([]Option{WithMeterProvider(mp)}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = m.Shutdown(context.Background()) })
		return reader
	}
	// How many points memwatch observes on this machine.
	var rm metricdata.ResourceMetrics
	if err := start(b, WithoutRuntimeInstrumentation()).Collect(context.Background(), &rm); err != nil {
		b.Fatal(err)
	}
	n := points(rm)
	b.Run("baseline", func(b *testing.B) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		if err := registerFloor(mp.Meter("floor"), n); err != nil {
			b.Skip(err)
		}
		if got := collect(b, reader); got != n {
			b.Fatalf("floor observed %d points, memwatch %d", got, n)
		}
	})
	b.Run("memwatch", func(b *testing.B) {
		collect(b, start(b, WithoutRuntimeInstrumentation()))
	})
	// At its defaults otelmem also starts the contrib runtime
	// instrumentation: what one collection costs a service (no target).
	b.Run("defaults", func(b *testing.B) {
		collect(b, start(b))
	})
}

func points(rm metricdata.ResourceMetrics) int {
	n := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				n += len(d.DataPoints)
			case metricdata.Gauge[float64]:
				n += len(d.DataPoints)
			case metricdata.Sum[int64]:
				n += len(d.DataPoints)
			case metricdata.Sum[float64]:
				n += len(d.DataPoints)
			}
		}
	}
	return n
}

// registerFloor registers the baseline callback of BenchmarkCollection:
// the same reads as a memwatch collection, and n points.
func registerFloor(meter metric.Meter, n int) error {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return err
	}
	group, _ := cgroup.Find("/") // outside a cgroup only its Pressure reads
	gauge, err := meter.Int64ObservableGauge("floor")
	if err != nil {
		return err
	}
	sets := make([]metric.ObserveOption, n)
	for i := range sets {
		sets[i] = metric.WithAttributeSet(attribute.NewSet(attribute.Int("i", i)))
	}
	var (
		rt  memread.Runtime
		buf [128]byte
	)
	_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		_ = time.Now()
		_, _ = f.ReadAt(buf[:], 0)
		v := rt.Read()
		_, _, _ = group.Memory()
		_, _, _ = group.Events()
		_, _, _, _ = group.Pressure()
		for _, set := range sets {
			o.ObserveInt64(gauge, int64(v.HeapLive), set)
		}
		return nil
	}, gauge)
	return err
}

// BenchmarkForceGC: runtime.GC followed by debug.FreeOSMemory (the first
// version of ForceGC, the baseline) runs two full collections;
// FreeOSMemory alone collects once and returns memory just the same.
func BenchmarkForceGC(b *testing.B) {
	keep := make([][]byte, 0, 2000)
	for range 2000 {
		keep = append(keep, make([]byte, 16<<10)) // 32 MiB of live heap to mark
	}
	b.Run("baseline", func(b *testing.B) {
		for b.Loop() {
			goruntime.GC()
			debug.FreeOSMemory()
		}
	})
	b.Run("freeosmemory", func(b *testing.B) {
		for b.Loop() {
			debug.FreeOSMemory()
		}
	})
	goruntime.KeepAlive(keep)
}
