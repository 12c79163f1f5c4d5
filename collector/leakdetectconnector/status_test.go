package leakdetectconnector

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
	"github.com/memwatch/memwatch/leakdetect"
)

// statusPoint is one point of the metrics output.
type statusPoint struct {
	name     string
	pid      int64
	reason   string
	value    float64
	time     time.Time
	start    time.Time
	isSum    bool
	signal   string
	metricOf string
}

func statusPoints(t *testing.T, sink *consumertest.MetricsSink) []statusPoint {
	t.Helper()
	var out []statusPoint
	for _, md := range sink.AllMetrics() {
		for _, rm := range md.ResourceMetrics().All() {
			pid, _ := rm.Resource().Attributes().Get("process.pid")
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					var points pmetric.NumberDataPointSlice
					isSum := m.Type() == pmetric.MetricTypeSum
					if isSum {
						points = m.Sum().DataPoints()
						if !m.Sum().IsMonotonic() || m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
							t.Errorf("%s: a sum that is not cumulative and monotonic", m.Name())
						}
					} else {
						points = m.Gauge().DataPoints()
					}
					for _, dp := range points.All() {
						p := statusPoint{name: m.Name(), pid: pid.Int(), time: dp.Timestamp().AsTime(), start: dp.StartTimestamp().AsTime(), isSum: isSum}
						if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
							p.value = float64(dp.IntValue())
						} else {
							p.value = dp.DoubleValue()
						}
						if v, ok := dp.Attributes().Get("memwatch.leak.reason"); ok {
							p.reason = v.Str()
						}
						if v, ok := dp.Attributes().Get("memwatch.leak.signal"); ok {
							p.signal = v.Str()
						}
						if v, ok := dp.Attributes().Get(attrMetric); ok {
							p.metricOf = v.Str()
						}
						out = append(out, p)
					}
				}
			}
		}
	}
	return out
}

// twoOutputs makes the connector's logs and metrics outputs from one
// configuration, as a Collector does when the connector feeds both
// pipelines, and starts them.
func twoOutputs(t *testing.T, cfg *Config, mp *sdkmetric.MeterProvider) (logsOut, metricsOut connector.Metrics, logs *consumertest.LogsSink, metrics *consumertest.MetricsSink) {
	t.Helper()
	f := NewFactory()
	set := nopSettings()
	set.TelemetrySettings.MeterProvider = mp
	logs, metrics = new(consumertest.LogsSink), new(consumertest.MetricsSink)
	var err error
	if logsOut, err = f.CreateMetricsToLogs(context.Background(), set, cfg, logs); err != nil {
		t.Fatal(err)
	}
	if metricsOut, err = f.CreateMetricsToMetrics(context.Background(), set, cfg, metrics); err != nil {
		t.Fatal(err)
	}
	for _, c := range []component.Component{logsOut, metricsOut} {
		if err := c.Start(context.Background(), componenttest.NewNopHost()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, c := range []component.Component{logsOut, metricsOut} {
			if err := c.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		}
	})
	return logsOut, metricsOut, logs, metrics
}

// TestBothOutputsOneAnalysis: a connector feeding a logs and a metrics
// pipeline, fed the same batches through both outputs as the Collector
// does, analyzes each point once: the findings are the analyzer's, no
// point is refused as out of order, and the metrics output reports the
// leaking process suspected from its first finding on, with the growth
// rate, and a findings count equal to the findings logged; the flat
// process is reported, never suspected.
func TestBothOutputsOneAnalysis(t *testing.T) {
	leak := scenario.Scenario{Name: "leak", Duration: 6 * time.Hour, Interval: 10 * time.Second,
		HeapBase: 200 * scenario.MB, Noise: 0.02, RSSOverhead: 1.4, Goroutines: 100,
		RSSLeak: 30 * scenario.MB, LeakStart: time.Hour}
	flat := scenario.Scenario{Name: "flat", Duration: 6 * time.Hour, Interval: 10 * time.Second,
		HeapBase: 300 * scenario.MB, Noise: 0.08, RSSOverhead: 1.4, Goroutines: 100}
	want := analyzerFindings(t, leak.Samples(3))
	if len(want) == 0 {
		t.Fatal("the analyzer finds no leak in the leaking series")
	}
	cfg := createDefaultConfig()
	reader := sdkmetric.NewManualReader()
	logsOut, metricsOut, logs, metrics := twoOutputs(t, cfg, sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	for _, md := range batches([]proc{{101, "leaky", leak.Samples(3)}, {202, "steady", flat.Samples(3)}}, "process.memory.usage", rss) {
		for _, out := range []connector.Metrics{logsOut, metricsOut} {
			if err := out.ConsumeMetrics(context.Background(), md); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := logs.LogRecordCount(); got != len(want) {
		t.Errorf("%d findings logged, the analyzer's %d", got, len(want))
	}
	if logsOut.(*outputComponent).c != metricsOut.(*outputComponent).c {
		t.Fatal("the two outputs do not share a connector")
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "otelcol_leakdetect_points_refused" {
				t.Errorf("points refused: %+v (a point analyzed twice is refused as out of order)", m.Data)
			}
		}
	}
	firstFinding := want[0].Time
	var suspectedLeaky, suspectedFlat, flatPoints int
	var lastCount float64
	for _, p := range statusPoints(t, metrics) {
		if p.signal != leakdetect.SignalRSS || p.metricOf != "process.memory.usage" {
			t.Fatalf("status point %+v: want memwatch.leak.signal rss and memwatch.leak.metric process.memory.usage", p)
		}
		switch {
		case p.name == leakdetect.MetricSuspected && p.pid == 101:
			if p.value == 1 {
				suspectedLeaky++
				if p.time.Before(firstFinding) {
					t.Errorf("suspected at %v, before the first finding at %v", p.time, firstFinding)
				}
			}
		case p.name == leakdetect.MetricSuspected && p.pid == 202:
			flatPoints++
			if p.value != 0 {
				suspectedFlat++
			}
		case p.name == leakdetect.MetricFindings:
			if p.pid != 101 || p.reason == "" || !p.isSum {
				t.Errorf("findings point %+v", p)
			}
			if !p.start.Equal(leak.Samples(3)[0].Time) {
				t.Errorf("findings count starts at %v, want the stream's first point %v", p.start, leak.Samples(3)[0].Time)
			}
			lastCount = p.value
		case p.name == leakdetect.MetricGrowthRate && p.pid == 101 && p.time.After(firstFinding):
			if p.value < 15*scenario.MB {
				t.Errorf("growth rate %v By/h after the finding, want about 30 MB/h", p.value)
			}
		}
	}
	if suspectedLeaky == 0 || flatPoints == 0 || suspectedFlat > 0 {
		t.Errorf("suspected: leaky %d points, flat %d of %d", suspectedLeaky, suspectedFlat, flatPoints)
	}
	if int(lastCount) != len(want) {
		t.Errorf("findings count %v, want %d", lastCount, len(want))
	}
}

// TestMetricsOutputAlone: without a logs pipeline the metrics output
// analyzes what it is fed.
func TestMetricsOutputAlone(t *testing.T) {
	leak := scenario.Scenario{Name: "leak", Duration: 6 * time.Hour, Interval: 10 * time.Second,
		HeapBase: 200 * scenario.MB, Noise: 0.02, RSSOverhead: 1.4, Goroutines: 100,
		RSSLeak: 30 * scenario.MB, LeakStart: time.Hour}
	sink := new(consumertest.MetricsSink)
	out, err := NewFactory().CreateMetricsToMetrics(context.Background(), nopSettings(), createDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer out.Shutdown(context.Background())
	for _, md := range batches([]proc{{101, "leaky", leak.Samples(3)}}, "process.memory.usage", rss) {
		if err := out.ConsumeMetrics(context.Background(), md); err != nil {
			t.Fatal(err)
		}
	}
	var count float64
	for _, p := range statusPoints(t, sink) {
		if p.name == leakdetect.MetricFindings {
			count = p.value
		}
	}
	if want := len(analyzerFindings(t, leak.Samples(3))); int(count) != want {
		t.Errorf("findings count %v, want the analyzer's %d", count, want)
	}
}

// TestReloadedConfigurationGetsItsOwnConnector: outputs of two
// configuration loads do not share a connector, and a shut down
// connector is forgotten.
func TestReloadedConfigurationGetsItsOwnConnector(t *testing.T) {
	f := NewFactory()
	a, b := createDefaultConfig(), createDefaultConfig()
	outA, err := f.CreateMetricsToLogs(context.Background(), nopSettings(), a, new(consumertest.LogsSink))
	if err != nil {
		t.Fatal(err)
	}
	outB, err := f.CreateMetricsToLogs(context.Background(), nopSettings(), b, new(consumertest.LogsSink))
	if err != nil {
		t.Fatal(err)
	}
	if outA.(*outputComponent).c == outB.(*outputComponent).c {
		t.Error("two configurations share one connector")
	}
	for _, o := range []connector.Metrics{outA, outB} {
		if err := o.Start(context.Background(), componenttest.NewNopHost()); err != nil {
			t.Fatal(err)
		}
		if err := o.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	shared.Lock()
	defer shared.Unlock()
	if _, ok := shared.byConfig[a]; ok {
		t.Error("a shut down connector is still shared")
	}
}

// analyzerFindings is what the analyzer finds in samples' RSS alone.
func analyzerFindings(t *testing.T, samples []scenario.Sample) []leakdetect.Finding {
	t.Helper()
	a, err := leakdetect.NewAnalyzer()
	if err != nil {
		t.Fatal(err)
	}
	var out []leakdetect.Finding
	for _, s := range samples {
		out = append(out, a.Observe(leakdetect.Sample{Time: s.Time, RSS: s.RSS})...)
	}
	return out
}
