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
	"go.opentelemetry.io/contrib/instrumentation/runtime"
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

// BenchmarkCollect compares one full collection of memwatch's instruments
// plus the contrib runtime instrumentation with the contrib runtime
// instrumentation alone, each on its own MeterProvider.
func BenchmarkCollect(b *testing.B) {
	run := func(b *testing.B, start func(*sdkmetric.MeterProvider) error) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		if err := start(mp); err != nil {
			b.Fatal(err)
		}
		var rm metricdata.ResourceMetrics
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := reader.Collect(ctx, &rm); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("baseline", func(b *testing.B) {
		run(b, func(mp *sdkmetric.MeterProvider) error {
			return runtime.Start(runtime.WithMeterProvider(mp))
		})
	})
	b.Run("memwatch-only", func(b *testing.B) {
		run(b, func(mp *sdkmetric.MeterProvider) error {
			m, err := Start(WithMeterProvider(mp), WithoutRuntimeInstrumentation())
			if err != nil {
				return err
			}
			b.Cleanup(func() { _ = m.Shutdown(context.Background()) })
			return nil
		})
	})
	b.Run("memwatch", func(b *testing.B) {
		run(b, func(mp *sdkmetric.MeterProvider) error {
			m, err := Start(WithMeterProvider(mp))
			if err != nil {
				return err
			}
			b.Cleanup(func() { _ = m.Shutdown(context.Background()) })
			return nil
		})
	})
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
