package otelmem

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

const mib = 1 << 20

// liveBytes allocates n bytes in 1 MiB chunks and writes every page, so the
// memory is resident and not just reserved.
func liveBytes(n int) [][]byte {
	chunks := make([][]byte, 0, n/mib)
	for range n / mib {
		c := make([]byte, mib)
		for i := 0; i < len(c); i += 4096 {
			c[i] = 1
		}
		chunks = append(chunks, c)
	}
	return chunks
}

// startWithReader starts a monitor on a fresh provider with a manual reader
// and shuts both down when the test ends.
func startWithReader(t *testing.T, opts ...Option) (*Monitor, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	m, err := Start(append([]Option{WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m, reader
}

func collect(t *testing.T, r *sdkmetric.ManualReader) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	return rm
}

// findMetric returns the metric named name in the given scope.
func findMetric(rm metricdata.ResourceMetrics, scope, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != scope {
			continue
		}
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// intValue returns the value of the data point of an int64 gauge or sum
// whose attribute key has value want ("" for a point without it).
func intValue(t *testing.T, rm metricdata.ResourceMetrics, name, attrKey, want string) int64 {
	t.Helper()
	return pointValue[int64](t, rm, name, attrKey, want)
}

// floatValue is intValue for float64 gauges and sums.
func floatValue(t *testing.T, rm metricdata.ResourceMetrics, name, attrKey, want string) float64 {
	t.Helper()
	return pointValue[float64](t, rm, name, attrKey, want)
}

func pointValue[N int64 | float64](t *testing.T, rm metricdata.ResourceMetrics, name, attrKey, want string) N {
	t.Helper()
	m, ok := findMetric(rm, ScopeName, name)
	if !ok {
		t.Fatalf("metric %s not collected", name)
	}
	var pts []metricdata.DataPoint[N]
	switch d := m.Data.(type) {
	case metricdata.Gauge[N]:
		pts = d.DataPoints
	case metricdata.Sum[N]:
		pts = d.DataPoints
	default:
		t.Fatalf("metric %s has data %T, want a gauge or sum of %T", name, m.Data, N(0))
	}
	for _, p := range pts {
		v, _ := p.Attributes.Value(attribute.Key(attrKey))
		if v.AsString() == want {
			return p.Value
		}
	}
	t.Fatalf("metric %s has no point with %s=%q", name, attrKey, want)
	return 0
}

// withClock replaces time.Now for one monitor.
func withClock(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.now = now })
}
