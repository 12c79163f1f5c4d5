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
