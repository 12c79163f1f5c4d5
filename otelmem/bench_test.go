package otelmem

import (
	"context"
	"errors"
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

	"github.com/memwatch/memwatch/internal/memread"
)

// BenchmarkSnapshot compares Snapshot with its floor: the fastest direct
// reads of the same numbers (a pread of a kept-open /proc/self/statm, one
// runtime/metrics.Read of the same samples and the clock; no parsing,
// so the floor is if anything too low) and with gopsutil,
// which the seed's psutil maps to. Run it through .ci/bench for the ratios.
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
// against its floor: a baseline callback on the same instruments that does
// the same fresh reads (a pread of a kept-open /proc/self/statm and one
// runtime/metrics.Read of the same metrics, no parsing) and observes the
// same points with attribute sets built in advance. Each runs on its own
// MeterProvider and ManualReader.
func BenchmarkCollection(b *testing.B) {
	collect := func(b *testing.B, mp *sdkmetric.MeterProvider, reader *sdkmetric.ManualReader, want int) {
		var rm metricdata.ResourceMetrics
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := reader.Collect(ctx, &rm); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if n := points(rm); want >= 0 && n != want {
			b.Fatalf("%d points collected, want %d", n, want)
		}
	}
	b.Run("baseline", func(b *testing.B) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		if err := registerFloor(mp.Meter("floor")); err != nil {
			b.Skip(err)
		}
		collect(b, mp, reader, collectionPoints)
	})
	b.Run("memwatch", func(b *testing.B) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		m, err := Start(WithMeterProvider(mp), WithoutRuntimeInstrumentation())
		if err != nil {
			b.Fatal(err)
		}
		defer m.Shutdown(context.Background())
		collect(b, mp, reader, collectionPoints)
	})
	// At its defaults otelmem also starts the contrib runtime
	// instrumentation: what one collection costs a service (no target).
	b.Run("defaults", func(b *testing.B) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		m, err := Start(WithMeterProvider(mp))
		if err != nil {
			b.Fatal(err)
		}
		defer m.Shutdown(context.Background())
		collect(b, mp, reader, -1)
	})
}

// collectionPoints is how many points one memwatch collection observes
// when RSS, the limit and the baseline are all known.
const collectionPoints = 11

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
			}
		}
	}
	return n
}

// registerFloor registers the baseline callback of BenchmarkCollection.
func registerFloor(meter metric.Meter) error {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return err
	}
	var (
		errs                       [9]error
		usage, virtual, live, objs metric.Int64ObservableUpDownCounter
		cycles                     metric.Int64ObservableCounter
		limit, base, growth        metric.Int64ObservableGauge
		util                       metric.Float64ObservableGauge
	)
	usage, errs[0] = meter.Int64ObservableUpDownCounter("a")
	virtual, errs[1] = meter.Int64ObservableUpDownCounter("b")
	util, errs[2] = meter.Float64ObservableGauge("c")
	limit, errs[3] = meter.Int64ObservableGauge("d")
	live, errs[4] = meter.Int64ObservableUpDownCounter("e")
	objs, errs[5] = meter.Int64ObservableUpDownCounter("f")
	cycles, errs[6] = meter.Int64ObservableCounter("g")
	base, errs[7] = meter.Int64ObservableGauge("h")
	growth, errs[8] = meter.Int64ObservableGauge("i")
	if err := errors.Join(errs[:]...); err != nil {
		return err
	}
	source := metric.WithAttributeSet(attribute.NewSet(attribute.String("source", "host")))
	rss := metric.WithAttributeSet(attribute.NewSet(attribute.String("type", "rss")))
	heap := metric.WithAttributeSet(attribute.NewSet(attribute.String("type", "heap_live")))
	samples := make([]metrics.Sample, len(memread.Names))
	for i, n := range memread.Names {
		samples[i].Name = n
	}
	var buf [128]byte
	_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		_ = time.Now()
		_, _ = f.ReadAt(buf[:], 0)
		metrics.Read(samples)
		v := int64(samples[0].Value.Uint64())
		o.ObserveInt64(usage, v)
		o.ObserveInt64(virtual, v)
		o.ObserveFloat64(util, 0.5, source)
		o.ObserveInt64(limit, v, source)
		o.ObserveInt64(live, v)
		o.ObserveInt64(objs, v)
		o.ObserveInt64(cycles, v)
		o.ObserveInt64(base, v, rss)
		o.ObserveInt64(growth, v, rss)
		o.ObserveInt64(base, v, heap)
		o.ObserveInt64(growth, v, heap)
		return nil
	}, usage, virtual, util, limit, live, objs, cycles, base, growth)
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
