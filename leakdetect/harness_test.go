package leakdetect

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/memwatch/memwatch/internal/clock"
	"github.com/memwatch/memwatch/internal/testutil/fakeclock"
	"github.com/memwatch/memwatch/internal/testutil/scenario"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func withClock(c clock.Clock) Option { return optionFunc(func(cfg *config) { cfg.clock = c }) }

type harness struct {
	d      *Detector
	clock  *fakeclock.Clock
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	logs   *bytes.Buffer
}

func startHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	h := &harness{clock: fakeclock.New(scenario.Start), spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), logs: &bytes.Buffer{}}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, h.logs}, nil))
	base := []Option{withClock(h.clock), WithTracerProvider(tp), WithMeterProvider(mp), WithLogger(logger)}
	d, err := Start(append(base, opts...)...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	h.d = d
	t.Cleanup(func() { _ = d.Shutdown(context.Background()) })
	return h
}

// replaying is a sampler that returns series one sample a call, then its
// last sample again.
func replaying(series []scenario.Sample) func() (Sample, error) {
	var mu sync.Mutex
	i := 0
	return func() (Sample, error) {
		mu.Lock()
		defer mu.Unlock()
		s := series[min(i, len(series)-1)]
		i++
		return Sample(s), nil
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func eventAttr(attrs []attribute.KeyValue, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range attrs {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}
