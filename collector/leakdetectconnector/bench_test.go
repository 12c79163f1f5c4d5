package leakdetectconnector

import (
	"context"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// fleetBatch is one scrape of n processes as hostmetrics sends it: a
// resource per process with its process.memory.usage point at t, noisy
// around 300 MB.
func fleetBatch(n int, t time.Time, seq int) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for i := range n {
		rm := md.ResourceMetrics().AppendEmpty()
		a := rm.Resource().Attributes()
		a.PutInt("process.pid", int64(1000+i))
		a.PutStr("process.executable.name", "svc")
		a.PutStr("host.name", "node-1")
		m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("process.memory.usage")
		dp := m.SetEmptySum().DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(t))
		dp.SetIntValue(300<<20 + int64((i*7919+seq*104729)%(24<<20)))
	}
	return md
}

// BenchmarkConsumeMetrics is the cost of a point through the connector,
// 10,000 streams at a 10-s scrape, beside a baseline that only walks the
// same pdata and reads each point's value and resource. points/s is for
// one core.
func BenchmarkConsumeMetrics(b *testing.B) {
	const streams = 10_000
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	batches := make([]pmetric.Metrics, 64)
	for i := range batches {
		batches[i] = fleetBatch(streams, start, i)
	}
	run := func(b *testing.B, consume func(pmetric.Metrics)) {
		seq := 0
		for b.Loop() {
			md := batches[seq%len(batches)]
			t := pcommon.NewTimestampFromTime(start.Add(time.Duration(seq) * 10 * time.Second))
			for _, rm := range md.ResourceMetrics().All() {
				rm.ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().At(0).SetTimestamp(t)
			}
			consume(md)
			seq++
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*streams), "ns/point")
		b.ReportMetric(float64(b.N*streams)/b.Elapsed().Seconds(), "points/s")
	}
	b.Run("baseline", func(b *testing.B) {
		var sum int64
		run(b, func(md pmetric.Metrics) {
			for _, rm := range md.ResourceMetrics().All() {
				sum += int64(rm.Resource().Attributes().Len())
				for _, sm := range rm.ScopeMetrics().All() {
					for _, m := range sm.Metrics().All() {
						for _, dp := range m.Sum().DataPoints().All() {
							sum += dp.IntValue() + int64(dp.Timestamp())
						}
					}
				}
			}
		})
	})
	for _, withMetrics := range []bool{false, true} {
		name := "connector"
		if withMetrics {
			name = "connector-metrics-output" // the streams' state as metrics too
		}
		b.Run(name, func(b *testing.B) {
			c, err := newConnector(nopSettings(), createDefaultConfig(), consumertest.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			if withMetrics {
				c.nextMetrics = consumertest.NewNop()
			}
			ctx := context.Background()
			run(b, func(md pmetric.Metrics) {
				if err := c.ConsumeMetrics(ctx, md); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// BenchmarkStreamMemory reports the heap a stream holds after 48 hours of
// 10-s points (100 streams, averaged), beside the analyzer's own.
func BenchmarkStreamMemory(b *testing.B) {
	const streams = 100
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c, _ := newConnector(nopSettings(), createDefaultConfig(), new(consumertest.LogsSink))
		for seq := range 48 * 360 {
			if err := c.ConsumeMetrics(context.Background(), fleetBatch(streams, start.Add(time.Duration(seq)*10*time.Second), seq)); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(c)
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/streams, "bytes/stream")
	}
}
