package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// telemetry is the SDK watch and run export through: OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT (or a signal's own endpoint variable) is
// set, OTEL_EXPORTER_OTLP_PROTOCOL choosing grpc or http/protobuf; stdout
// otherwise. The resource names the watched process, not memwatch.
type telemetry struct {
	mp    *sdkmetric.MeterProvider
	tp    *sdktrace.TracerProvider
	meter metric.Meter
}

func setupTelemetry(ctx context.Context, pid int, exe string, stdout io.Writer) (*telemetry, error) {
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithAttributes(
		semconv.ServiceName(exe), semconv.ProcessPID(pid), semconv.ProcessExecutableName(exe)))
	if err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	var (
		me         sdkmetric.Exporter
		te         sdktrace.SpanExporter
		err1, err2 error
	)
	switch proto := os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); {
	case !otlpConfigured():
		me, err1 = stdoutmetric.New(stdoutmetric.WithWriter(stdout))
		te, err2 = stdouttrace.New(stdouttrace.WithWriter(stdout))
	case proto == "grpc":
		me, err1 = otlpmetricgrpc.New(ctx)
		te, err2 = otlptracegrpc.New(ctx)
	case proto == "" || proto == "http/protobuf":
		me, err1 = otlpmetrichttp.New(ctx)
		te, err2 = otlptracehttp.New(ctx)
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want grpc or http/protobuf", proto)
	}
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("exporters: %w", err)
	}
	t := &telemetry{
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me))),
		tp: sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(te)),
	}
	t.meter = t.mp.Meter("github.com/memwatch/memwatch/cmd/memwatch")
	return t, nil
}

func otlpConfigured() bool {
	for _, v := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}

// shutdown flushes both providers, giving them 5 seconds.
func (t *telemetry) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = t.tp.Shutdown(ctx)
	_ = t.mp.Shutdown(ctx)
}
