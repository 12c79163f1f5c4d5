package leakdetectconnector

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/memwatch/memwatch/collector/leakdetectconnector/internal/metadata"
	"github.com/memwatch/memwatch/internal/testutil/scenario"
	"github.com/memwatch/memwatch/leakdetect"
)

// proc is a process as the hostmetrics process scraper reports it: its
// resource, and its RSS at each time.
type proc struct {
	pid     int64
	name    string
	samples []scenario.Sample
}

// batches turns the processes' samples into one batch a minute, each
// process a resource with process.pid and process.executable.name and a
// process.memory.usage gauge (as hostmetrics sends them).
func batches(procs []proc, metric string, signal func(scenario.Sample) float64) []pmetric.Metrics {
	var out []pmetric.Metrics
	idx := make([]int, len(procs))
	for {
		md := pmetric.NewMetrics()
		any := false
		var until time.Time
		for i, p := range procs {
			if idx[i] < len(p.samples) && (until.IsZero() || p.samples[idx[i]].Time.Before(until)) {
				until = p.samples[idx[i]].Time.Truncate(time.Minute).Add(time.Minute)
			}
		}
		for i, p := range procs {
			rm := md.ResourceMetrics().AppendEmpty()
			rm.Resource().Attributes().PutInt("process.pid", p.pid)
			rm.Resource().Attributes().PutStr("process.executable.name", p.name)
			m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
			m.SetName(metric)
			g := m.SetEmptyGauge()
			for ; idx[i] < len(p.samples) && p.samples[idx[i]].Time.Before(until); idx[i]++ {
				dp := g.DataPoints().AppendEmpty()
				dp.SetTimestamp(pcommon.NewTimestampFromTime(p.samples[idx[i]].Time))
				dp.SetIntValue(int64(signal(p.samples[idx[i]])))
				any = true
			}
		}
		if !any {
			return out
		}
		out = append(out, md)
	}
}

func nopSettings() connector.Settings { return connectortest.NewNopSettings(metadata.Type) }

func newTestConnector(t *testing.T, cfg *Config, sink *consumertest.LogsSink, mp *sdkmetric.MeterProvider) *leakConnector {
	t.Helper()
	set := nopSettings()
	if mp != nil {
		set.TelemetrySettings.MeterProvider = mp
	}
	c, err := newConnector(set, cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c
}

func rss(s scenario.Sample) float64 { return float64(s.RSS) }

// TestLeakingProcessFoundFlatNot: two processes through hostmetrics'
// process.memory.usage, one leaking 30 MB/h of RSS, one flat and noisy:
// the leak is reported once, on the leaking process's resource, as
// memwatch.leak.suspected with the finding's attributes; the flat one is
// not.
func TestLeakingProcessFoundFlatNot(t *testing.T) {
	leak := scenario.Scenario{Name: "leak", Duration: 8 * time.Hour, Interval: 10 * time.Second,
		HeapBase: 200 * scenario.MB, Noise: 0.02, RSSOverhead: 1.4, Goroutines: 100,
		RSSLeak: 30 * scenario.MB, LeakStart: time.Hour}
	flat := scenario.Scenario{Name: "flat", Duration: 8 * time.Hour, Interval: 10 * time.Second,
		HeapBase: 300 * scenario.MB, Noise: 0.08, RSSOverhead: 1.4, Goroutines: 100}
	sink := new(consumertest.LogsSink)
	c := newTestConnector(t, createDefaultConfig(), sink, nil)
	for _, md := range batches([]proc{{101, "leaky", leak.Samples(1)}, {202, "steady", flat.Samples(1)}}, "process.memory.usage", rss) {
		if err := c.ConsumeMetrics(context.Background(), md); err != nil {
			t.Fatal(err)
		}
	}
	var records []plog.LogRecord
	var pids []int64
	for _, l := range sink.AllLogs() {
		for _, rl := range l.ResourceLogs().All() {
			pid, _ := rl.Resource().Attributes().Get("process.pid")
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					records = append(records, lr)
					pids = append(pids, pid.Int())
				}
			}
		}
	}
	if len(records) == 0 {
		t.Fatal("no finding for a process leaking 30 MB/h for 7 hours")
	}
	for i, lr := range records {
		if pids[i] != 101 {
			t.Errorf("finding on pid %d: %v", pids[i], lr.Body().AsString())
		}
		if lr.EventName() != leakdetect.EventLeakSuspected {
			t.Errorf("event name %q, want %q", lr.EventName(), leakdetect.EventLeakSuspected)
		}
		for k, want := range map[string]string{"memwatch.leak.signal": "rss", "memwatch.leak.metric": "process.memory.usage"} {
			if v, ok := lr.Attributes().Get(k); !ok || v.AsString() != want {
				t.Errorf("%s = %v, want %q", k, v.AsString(), want)
			}
		}
		if v, ok := lr.Attributes().Get("memwatch.leak.rate_per_hour"); !ok || v.Int() < 15*scenario.MB {
			t.Errorf("rate %v, want about 30 MB/h", v.AsRaw())
		}
	}
}

// TestSameDecisionsAsTheLibrary: for a series of every case of the
// scorecard's suites (the catalog, the catalog with each realism, the real
// suite), each signal fed as its own metric through ConsumeMetrics raises
// exactly the findings an analyzer given the same single-signal samples
// raises.
func TestSameDecisionsAsTheLibrary(t *testing.T) {
	signals := []struct {
		metric, signal string
		value          func(scenario.Sample) float64
		keep           func(scenario.Sample) leakdetect.Sample
	}{
		{"memwatch.heap.live", leakdetect.SignalHeapLive, func(s scenario.Sample) float64 { return float64(s.HeapLive) },
			func(s scenario.Sample) leakdetect.Sample {
				return leakdetect.Sample{Time: s.Time, HeapLive: s.HeapLive}
			}},
		{"process.memory.usage", leakdetect.SignalRSS, rss,
			func(s scenario.Sample) leakdetect.Sample { return leakdetect.Sample{Time: s.Time, RSS: s.RSS} }},
		{"go.goroutine.count", leakdetect.SignalGoroutines, func(s scenario.Sample) float64 { return float64(s.Goroutines) },
			func(s scenario.Sample) leakdetect.Sample {
				return leakdetect.Sample{Time: s.Time, Goroutines: s.Goroutines}
			}},
	}
	cases := scenario.Catalog()
	for _, c := range scenario.Catalog() {
		for _, r := range scenario.Realisms() {
			cases = append(cases, r.Apply(c))
		}
	}
	cases = append(cases, scenario.RealCatalog()...)
	if testing.Short() {
		cases = cases[:4]
	}
	for _, cs := range cases {
		samples := cs.Samples(1)
		for _, sig := range signals {
			a, _ := leakdetect.NewAnalyzer()
			var want []time.Time
			for _, s := range samples {
				for _, f := range a.Observe(sig.keep(s)) {
					want = append(want, f.Time)
				}
			}
			sink := new(consumertest.LogsSink)
			c := newTestConnector(t, createDefaultConfig(), sink, nil)
			for _, md := range batches([]proc{{1, "p", samples}}, sig.metric, sig.value) {
				if err := c.ConsumeMetrics(context.Background(), md); err != nil {
					t.Fatal(err)
				}
			}
			var got []time.Time
			for _, l := range sink.AllLogs() {
				for _, rl := range l.ResourceLogs().All() {
					for _, sl := range rl.ScopeLogs().All() {
						for _, lr := range sl.LogRecords().All() {
							got = append(got, lr.Timestamp().AsTime())
						}
					}
				}
			}
			if !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Errorf("%s, %s: connector found at %v, the analyzer at %v", cs.Name, sig.signal, got, want)
			}
		}
	}
}

// TestBadInputCountedAndDropped: NaN, negative and out-of-order points,
// a histogram under a configured name and a point with 1,000 attributes
// are counted by reason and dropped, never a panic or a stream.
func TestBadInputCountedAndDropped(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	c := newTestConnector(t, createDefaultConfig(), new(consumertest.LogsSink), mp)
	md := pmetric.NewMetrics()
	ms := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics()
	g := ms.AppendEmpty()
	g.SetName("process.memory.usage")
	dps := g.SetEmptyGauge().DataPoints()
	at := func(min int) pcommon.Timestamp {
		return pcommon.NewTimestampFromTime(time.Date(2026, 1, 1, 0, min, 0, 0, time.UTC))
	}
	good := dps.AppendEmpty()
	good.SetTimestamp(at(2))
	good.SetIntValue(100 << 20)
	for _, v := range []float64{math.NaN(), -1, math.Inf(1)} {
		dp := dps.AppendEmpty()
		dp.SetTimestamp(at(3))
		dp.SetDoubleValue(v)
	}
	late := dps.AppendEmpty()
	late.SetTimestamp(at(1))
	late.SetIntValue(100 << 20)
	wide := dps.AppendEmpty()
	wide.SetTimestamp(at(4))
	wide.SetIntValue(1)
	for i := range 1000 {
		wide.Attributes().PutInt("a"+string(rune('0'+i%10))+string(rune('a'+i/10%26))+string(rune('a'+i/260)), int64(i))
	}
	h := ms.AppendEmpty()
	h.SetName("container.memory.working_set")
	h.SetEmptyHistogram().DataPoints().AppendEmpty().SetCount(1)
	if err := c.ConsumeMetrics(context.Background(), md); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	var streams int64 = -1
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch m.Name {
			case "otelcol_leakdetect_points_refused":
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					r, _ := dp.Attributes.Value("reason")
					got[r.AsString()] = dp.Value
				}
			case "otelcol_leakdetect_streams":
				streams = m.Data.(metricdata.Gauge[int64]).DataPoints[0].Value
			}
		}
	}
	want := map[string]int64{reasonValue: 3, reasonOrder: 1, reasonAttributes: 1, reasonType: 1}
	for r, n := range want {
		if got[r] != n {
			t.Errorf("refused for %s: %d, want %d (all: %v)", r, got[r], n, got)
		}
	}
	if streams != 1 {
		t.Errorf("streams %d, want 1 (the good point's)", streams)
	}
}

// TestStreamsBounded: beyond max_streams the least recently seen stream
// is evicted, and a stream silent past idle_timeout is dropped, by the
// connector's clock.
func TestStreamsBounded(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.MaxStreams, cfg.IdleTimeout = 3, time.Hour
	c := newTestConnector(t, cfg, new(consumertest.LogsSink), nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	send := func(pids ...int64) {
		md := pmetric.NewMetrics()
		for _, pid := range pids {
			rm := md.ResourceMetrics().AppendEmpty()
			rm.Resource().Attributes().PutInt("process.pid", pid)
			m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
			m.SetName("process.memory.usage")
			dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
			dp.SetTimestamp(pcommon.NewTimestampFromTime(now))
			dp.SetIntValue(1 << 20)
		}
		if err := c.ConsumeMetrics(context.Background(), md); err != nil {
			t.Fatal(err)
		}
	}
	send(1, 2, 3)
	now = now.Add(time.Minute)
	send(1, 4, 5) // 2 and 3 are the least recently seen
	if c.streams.len() != 3 || c.streams.evicted != 2 {
		t.Errorf("%d streams, %d evicted; want 3 and 2", c.streams.len(), c.streams.evicted)
	}
	now = now.Add(50 * time.Minute)
	send(1)
	now = now.Add(20 * time.Minute) // 4 and 5 silent for 70 minutes
	send(1)
	if c.streams.len() != 1 || c.streams.dropped != 2 {
		t.Errorf("%d streams, %d dropped; want 1 and 2", c.streams.len(), c.streams.dropped)
	}
	var _ component.Host
}
