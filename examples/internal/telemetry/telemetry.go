// Package telemetry sets up the OpenTelemetry SDK for memwatch's examples:
// metrics, traces and logs to stdout by default, to an OTLP endpoint when the
// standard OTEL_EXPORTER_OTLP_ENDPOINT is set (OTEL_EXPORTER_OTLP_PROTOCOL
// picks "grpc" or "http/protobuf", the default).
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutlog"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/log/global"
	"go.opentelemetry.io/otel/propagation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Config says how to set up the SDK.
type Config struct {
	// ServiceName is used unless OTEL_SERVICE_NAME is set.
	ServiceName string
	// MetricInterval is the export interval unless
	// OTEL_METRIC_EXPORT_INTERVAL is set.
	MetricInterval time.Duration
	// Stdout receives the stdout exporters' output.
	Stdout io.Writer
	// Logger reports setup problems and export errors.
	Logger *slog.Logger
}

// Providers are the SDK providers Setup installed globally.
type Providers struct {
	MeterProvider  *sdkmetric.MeterProvider
	TracerProvider *sdktrace.TracerProvider
	LoggerProvider *sdklog.LoggerProvider
	// Target says where the data goes, for the example's first log line.
	Target string

	closeOnce sync.Once
}

// Shutdown flushes and stops the providers.
func (p *Providers) Shutdown(ctx context.Context) error {
	return errors.Join(p.TracerProvider.Shutdown(ctx), p.MeterProvider.Shutdown(ctx), p.LoggerProvider.Shutdown(ctx))
}

// Close is Shutdown for a deferred call at the end of main: it gives the
// flush 5 seconds (an unreachable backend must not hold the program) and
// logs what failed. Calls after the first do nothing, so a program may
// close early (before its memwatch monitor, whose metrics the last export
// should carry) and keep a deferred Close for its error paths.
func (p *Providers) Close(logger *slog.Logger) {
	p.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			logger.Warn("telemetry shutdown", "error", err)
		}
	})
}

// Setup builds the providers, installs them and the W3C propagators
// globally, and routes OpenTelemetry's internal errors to cfg.Logger. A
// malformed OTLP endpoint is reported and stdout used instead: an example
// must keep running whatever its environment says.
func Setup(ctx context.Context, cfg Config) (*Providers, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(cfg.ServiceName)),
		resource.WithFromEnv(),
		resource.WithTelemetrySDK(),
		resource.WithProcessPID(),
	)
	if err != nil {
		cfg.Logger.Warn("resource detection incomplete", "error", err)
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		cfg.Logger.Warn("opentelemetry error", "error", err)
	}))

	metricExp, traceExp, logExp, target, err := exporters(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var readerOpts []sdkmetric.PeriodicReaderOption
	if os.Getenv("OTEL_METRIC_EXPORT_INTERVAL") == "" && cfg.MetricInterval > 0 {
		readerOpts = append(readerOpts, sdkmetric.WithInterval(cfg.MetricInterval))
	}
	p := &Providers{
		MeterProvider: sdkmetric.NewMeterProvider(
			sdkmetric.WithResource(res),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metricExp, readerOpts...)),
		),
		TracerProvider: sdktrace.NewTracerProvider(
			sdktrace.WithResource(res),
			sdktrace.WithBatcher(traceExp),
		),
		LoggerProvider: sdklog.NewLoggerProvider(
			sdklog.WithResource(res),
			sdklog.WithProcessor(sdklog.NewBatchProcessor(logExp)),
		),
		Target: target,
	}
	otel.SetMeterProvider(p.MeterProvider)
	otel.SetTracerProvider(p.TracerProvider)
	global.SetLoggerProvider(p.LoggerProvider)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return p, nil
}

func exporters(ctx context.Context, cfg Config) (sdkmetric.Exporter, sdktrace.SpanExporter, sdklog.Exporter, string, error) {
	endpoint := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	if endpoint != "" {
		if err := checkEndpoint(endpoint); err != nil {
			cfg.Logger.Error("OTEL_EXPORTER_OTLP_ENDPOINT is unusable; exporting to stdout instead", "endpoint", endpoint, "error", err)
		} else {
			m, t, l, err := otlpExporters(ctx)
			if err == nil {
				return m, t, l, "OTLP " + endpoint, nil
			}
			cfg.Logger.Error("cannot create OTLP exporters; exporting to stdout instead", "endpoint", endpoint, "error", err)
		}
	}
	m, err := stdoutmetric.New(stdoutmetric.WithWriter(cfg.Stdout))
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("stdout metric exporter: %w", err)
	}
	t, err := stdouttrace.New(stdouttrace.WithWriter(cfg.Stdout))
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("stdout trace exporter: %w", err)
	}
	l, err := stdoutlog.New(stdoutlog.WithWriter(cfg.Stdout))
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("stdout log exporter: %w", err)
	}
	return m, t, l, "stdout", nil
}

// otlpExporters creates OTLP exporters for the protocol the environment
// names; the exporters read the endpoint and headers themselves.
func otlpExporters(ctx context.Context) (sdkmetric.Exporter, sdktrace.SpanExporter, sdklog.Exporter, error) {
	switch proto := os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); proto {
	case "grpc":
		m, err1 := otlpmetricgrpc.New(ctx)
		t, err2 := otlptracegrpc.New(ctx)
		l, err3 := otlploggrpc.New(ctx)
		return m, t, l, errors.Join(err1, err2, err3)
	case "", "http/protobuf":
		m, err1 := otlpmetrichttp.New(ctx)
		t, err2 := otlptracehttp.New(ctx)
		l, err3 := otlploghttp.New(ctx)
		return m, t, l, errors.Join(err1, err2, err3)
	default:
		return nil, nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want grpc or http/protobuf", proto)
	}
}

// checkEndpoint rejects what the exporters would only fail on later, one
// export at a time: not a URL, or not http(s) with a host.
func checkEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" || strings.HasPrefix(u.Host, ":") {
		return fmt.Errorf("no host in %q", endpoint)
	}
	return nil
}
