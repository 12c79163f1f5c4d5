package spans

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/otelmem"
)

// DefaultSampleInterval is how often TrackCmd samples a worker's RSS.
const DefaultSampleInterval = time.Second

// Option configures Track, Start, StartPhases, Checkpoint and TrackCmd.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	tracerProvider trace.TracerProvider
	attrs          []attribute.KeyValue
	monitor        *otelmem.Monitor
	logger         *slog.Logger
	sampleInterval time.Duration
	propagator     propagation.TextMapPropagator
	spanName       string
	newTicker      func(time.Duration) ticker
	errs           []error
}

// newConfig applies opts. Without options it allocates nothing, which keeps
// Track cheap on hot paths.
func newConfig(opts []Option) (config, error) {
	c := config{sampleInterval: DefaultSampleInterval}
	for _, o := range opts {
		if o == nil {
			c.errs = append(c.errs, errors.New("spans: nil Option"))
			continue
		}
		o.apply(&c)
	}
	if len(c.errs) > 0 {
		return c, errors.Join(c.errs...)
	}
	return c, nil
}

// WithTracerProvider sets the TracerProvider spans are created with. A nil
// provider is ignored. The default is the provider of the span in the
// context, else otel.GetTracerProvider(), as otelhttp does.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tracerProvider = tp
		}
	})
}

// WithAttributes adds attributes to the span.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.attrs = append(c.attrs, attrs...) })
}

// WithMonitor gives checkpoints a baseline to measure against: the
// monitor's (see otelmem.Monitor.Rebaseline). A nil monitor is an error.
func WithMonitor(m *otelmem.Monitor) Option {
	return optionFunc(func(c *config) {
		if m == nil {
			c.errs = append(c.errs, errors.New("spans: WithMonitor: monitor is nil"))
			return
		}
		c.monitor = m
	})
}

// WithLogger sets the logger checkpoints write their line to. The default
// is slog.Default(). A nil logger is an error.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("spans: WithLogger: logger is nil"))
			return
		}
		c.logger = l
	})
}

// MinSampleInterval is the shortest interval WithSampleInterval accepts.
const MinSampleInterval = 10 * time.Millisecond

// WithSampleInterval sets how often TrackCmd samples the worker's RSS. It
// must be at least MinSampleInterval (a shorter one would spend a CPU on
// reading /proc); the default is DefaultSampleInterval.
func WithSampleInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d < MinSampleInterval {
			c.errs = append(c.errs, fmt.Errorf("spans: WithSampleInterval(%v): interval must be at least %v", d, MinSampleInterval))
			return
		}
		c.sampleInterval = d
	})
}

// WithPropagator sets the propagator TrackCmd injects into the worker's
// environment and ContextFromEnv extracts with. The default is the global
// one if it propagates anything, else W3C trace context and baggage.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) {
		if p == nil {
			c.errs = append(c.errs, errors.New("spans: WithPropagator: propagator is nil"))
			return
		}
		c.propagator = p
	})
}

// WithSpanName names TrackCmd's span; the default is "worker " and the
// executable's base name. An empty name is an error.
func WithSpanName(name string) Option {
	return optionFunc(func(c *config) {
		if name == "" {
			c.errs = append(c.errs, errors.New(`spans: WithSpanName(""): name is empty`))
			return
		}
		c.spanName = name
	})
}

// tracer picks the provider: the option's, else the one that made the span
// in the context, else the global one. A remote parent (extracted from a
// carrier, as ContextFromEnv does) has no provider of its own: its
// TracerProvider is a no-op, so it counts as no span.
func (c *config) tracer(ctx context.Context) trace.Tracer {
	tp := c.tracerProvider
	if tp == nil {
		if parent := trace.SpanFromContext(ctx); parent.SpanContext().IsValid() && !parent.SpanContext().IsRemote() {
			tp = parent.TracerProvider()
		} else {
			tp = otel.GetTracerProvider()
		}
	}
	return tracerFor(tp)
}

// startOptions are the span start options the configuration implies; none,
// and no allocation, without WithAttributes.
func (c *config) startOptions() []trace.SpanStartOption {
	if len(c.attrs) == 0 {
		return nil
	}
	return []trace.SpanStartOption{trace.WithAttributes(c.attrs...)}
}

// readMemory reads memory once: through the monitor given with WithMonitor,
// whose snapshot also carries the growth over its baseline, else directly.
func (c *config) readMemory(s *sampler) (memory, *otelmem.Snapshot) {
	if c.monitor != nil {
		if snap, err := c.monitor.Snapshot(); err == nil || snap.RSS > 0 {
			m := memory{rss: snap.RSS, rssOK: snap.RSS > 0, heapLive: snap.HeapLive, heapAllocs: snap.HeapAllocs, gcCycles: snap.GCCycles}
			return m, &snap
		}
	}
	return s.read(), nil
}

func (c *config) log() *slog.Logger {
	if c.logger != nil {
		return c.logger
	}
	return slog.Default()
}

func (c *config) textMapPropagator() propagation.TextMapPropagator {
	if c.propagator != nil {
		return c.propagator
	}
	if p := otel.GetTextMapPropagator(); len(p.Fields()) > 0 {
		return p
	}
	return defaultPropagator
}

var defaultPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
