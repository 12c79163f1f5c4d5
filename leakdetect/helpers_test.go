package leakdetect

import (
	"context"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"github.com/memwatch/memwatch/otelmem"
)

func startMonitor(t *testing.T) *otelmem.Monitor {
	t.Helper()
	m, err := otelmem.Start(otelmem.WithMeterProvider(metricnoop.NewMeterProvider()), otelmem.WithoutRuntimeInstrumentation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

// startOptions passes analyzer options to Start.
func startOptions(opts []AnalyzerOption) []Option {
	out := make([]Option, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}
