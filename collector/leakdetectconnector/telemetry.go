package leakdetectconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/memwatch/memwatch/collector/leakdetectconnector/internal/metadata"
	"github.com/memwatch/memwatch/leakdetect"
)

// Why a point was refused, the reason attribute of
// otelcol_leakdetect_points_refused.
const (
	reasonValue      = "value"      // not a number, negative, or too large
	reasonOrder      = "order"      // not later than the stream's newest point
	reasonType       = "type"       // a metric of a type the analyzer cannot read (counted per metric)
	reasonAttributes = "attributes" // more than maxPointAttributes attributes
)

// telemetry is the connector's own metrics (metadata.yaml), on the
// Collector's MeterProvider: streams tracked, evicted and dropped, points
// refused by reason, and findings by signal and reason.
type telemetry struct {
	b                *metadata.TelemetryBuilder
	evicted, dropped int64 // reported so far
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	b, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	return &telemetry{b: b}, nil
}

func (t *telemetry) refused(ctx context.Context, reason string, n int64) {
	t.b.LeakdetectPointsRefused.Add(ctx, n, metric.WithAttributes(attribute.String("reason", reason)))
}

func (t *telemetry) found(ctx context.Context, f leakdetect.Finding) {
	t.b.LeakdetectFindings.Add(ctx, 1, metric.WithAttributes(attribute.String("memwatch.leak.signal", f.Signal), attribute.String("memwatch.leak.reason", f.Reason)))
}

// streams reports the streams tracked now, and those evicted and dropped
// since the last report. The caller holds the connector's lock.
func (t *telemetry) streams(ctx context.Context, s *streams) {
	t.b.LeakdetectStreams.Record(ctx, int64(s.len()))
	if d := s.evicted - t.evicted; d > 0 {
		t.b.LeakdetectStreamsEvicted.Add(ctx, d)
	}
	if d := s.dropped - t.dropped; d > 0 {
		t.b.LeakdetectStreamsDropped.Add(ctx, d)
	}
	t.evicted, t.dropped = s.evicted, s.dropped
}

func (t *telemetry) shutdown() error {
	t.b.Shutdown()
	return nil
}
