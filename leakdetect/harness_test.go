package leakdetect

import (
	"bytes"
	"context"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/clock"
	"github.com/memwatch/memwatch/internal/testutil/scenario"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// fakeClock hands out tickers the test fires by hand.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	tickers map[time.Duration]*fakeTicker
}

type fakeTicker struct{ c chan time.Time }

func (t *fakeTicker) C() <-chan time.Time { return t.c }

func (t *fakeTicker) Stop() {}

func newFakeClock() *fakeClock {
	return &fakeClock{now: scenario.Start, tickers: map[time.Duration]*fakeTicker{}}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// advance moves the clock on by d and returns the new time.
func (c *fakeClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

func (c *fakeClock) NewTicker(d time.Duration) clock.Ticker {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTicker{c: make(chan time.Time)}
	c.tickers[d] = t
	return t
}

func (c *fakeClock) ticker(d time.Duration) *fakeTicker {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tickers[d]
}

// fire sends one tick; it returns once the detector's loop took it, and
// the loop finishes handling one tick before it takes the next.
func (c *fakeClock) fire(t *testing.T, d time.Duration) {
	t.Helper()
	for c.ticker(d) == nil {
		runtime.Gosched() // the loop has not created its tickers yet
	}
	c.ticker(d).c <- c.Now()
}

func withClock(c clock.Clock) Option { return optionFunc(func(cfg *config) { cfg.clock = c }) }

type harness struct {
	d      *Detector
	clock  *fakeClock
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	logs   *bytes.Buffer
}

func startHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	h := &harness{clock: newFakeClock(), spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), logs: &bytes.Buffer{}}
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

type countingHandler struct {
	mu  sync.Mutex
	got []string
}

func (h *countingHandler) Handle(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, err.Error())
}
