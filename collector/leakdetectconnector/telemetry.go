package leakdetectconnector

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/memwatch/memwatch/leakdetect"
)

// Why a point was refused, the reason attribute of
// otelcol.leakdetect.points.refused.
const (
	reasonValue      = "value"      // not a number, negative, or too large
	reasonOrder      = "order"      // not later than the stream's newest point
	reasonType       = "type"       // a metric of a type the analyzer cannot read (counted per metric)
	reasonAttributes = "attributes" // more than maxPointAttributes attributes
)

// telemetry is the connector's own metrics, on the Collector's
// MeterProvider: streams tracked, evicted and dropped, points refused by
// reason, and findings by signal and reason.
type telemetry struct {
	refusedPoints metric.Int64Counter
	findings      metric.Int64Counter
	reg           metric.Registration
}

func newTelemetry(set component.TelemetrySettings, c *leakConnector) (*telemetry, error) {
	m := set.MeterProvider.Meter(scopeName)
	var t telemetry
	var errs [6]error
	t.refusedPoints, errs[0] = m.Int64Counter("otelcol.leakdetect.points.refused",
		metric.WithDescription("Points the connector dropped, by reason: value, order, type, attributes."), metric.WithUnit("{point}"))
	t.findings, errs[1] = m.Int64Counter("otelcol.leakdetect.findings",
		metric.WithDescription("Leak findings, by memwatch.leak.signal and memwatch.leak.reason."), metric.WithUnit("{finding}"))
	tracked, err2 := m.Int64ObservableGauge("otelcol.leakdetect.streams",
		metric.WithDescription("Streams analyzed now."), metric.WithUnit("{stream}"))
	evicted, err3 := m.Int64ObservableCounter("otelcol.leakdetect.streams.evicted",
		metric.WithDescription("Streams evicted beyond max_streams, the least recently seen first."), metric.WithUnit("{stream}"))
	dropped, err4 := m.Int64ObservableCounter("otelcol.leakdetect.streams.dropped",
		metric.WithDescription("Streams dropped after idle_timeout without a point."), metric.WithUnit("{stream}"))
	errs[2], errs[3], errs[4] = err2, err3, err4
	t.reg, errs[5] = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		o.ObserveInt64(tracked, int64(c.streams.len()))
		o.ObserveInt64(evicted, c.streams.evicted)
		o.ObserveInt64(dropped, c.streams.dropped)
		return nil
	}, tracked, evicted, dropped)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return &t, nil
}

func (t *telemetry) refused(ctx context.Context, reason string, n int64) {
	t.refusedPoints.Add(ctx, n, metric.WithAttributes(attribute.String("reason", reason)))
}

func (t *telemetry) found(ctx context.Context, f leakdetect.Finding) {
	t.findings.Add(ctx, 1, metric.WithAttributes(attribute.String("memwatch.leak.signal", f.Signal), attribute.String("memwatch.leak.reason", f.Reason)))
}

func (t *telemetry) shutdown() error {
	if t.reg == nil {
		return nil
	}
	return t.reg.Unregister()
}
