package spans

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/internal/clock"
	"github.com/memwatch/memwatch/otelmem"

	"github.com/memwatch/memwatch/internal/optcheck"
)

// DefaultSampleInterval is how often TrackCmd samples a worker's RSS.
const DefaultSampleInterval = time.Second

// Each entry point takes only the options it honours; the compiler refuses
// the others.
type (
	// TrackOption configures Track and Start.
	TrackOption interface{ applyTrack(*config) }
	// PhasesOption configures StartPhases.
	PhasesOption interface{ applyPhases(*config) }
	// CheckpointOption configures Checkpoint.
	CheckpointOption interface{ applyCheckpoint(*config) }
	// CmdOption configures TrackCmd.
	CmdOption interface{ applyCmd(*config) }
	// EnvOption configures ContextFromEnv.
	EnvOption interface{ applyEnv(*config) }
)

// SpanOption configures every entry point that starts spans: Track, Start,
// StartPhases and TrackCmd.
type SpanOption interface {
	TrackOption
	PhasesOption
	CmdOption
}

// LogOption configures the entry points that log checkpoints: StartPhases
// and Checkpoint.
type LogOption interface {
	PhasesOption
	CheckpointOption
}

// PropagationOption configures TrackCmd and ContextFromEnv.
type PropagationOption interface {
	CmdOption
	EnvOption
}

// option is every option's implementation; the constructors' return types
// say where it may be passed.
type option func(*config)

func (o option) applyTrack(c *config)      { o(c) }
func (o option) applyPhases(c *config)     { o(c) }
func (o option) applyCheckpoint(c *config) { o(c) }
func (o option) applyCmd(c *config)        { o(c) }
func (o option) applyEnv(c *config)        { o(c) }

type config struct {
	tracer         trace.Tracer // from WithTracerProvider, built once per option
	attrs          []attribute.KeyValue
	monitor        *otelmem.Monitor
	logger         *slog.Logger
	sampleInterval time.Duration
	propagator     propagation.TextMapPropagator
	spanName       string
	clock          clock.Clock // TrackCmd's sampling ticker; tests set a fake
	fsRoot         string      // where TrackCmd reads the cgroup's OOM kills; tests set a fake tree
	errs           optcheck.Errors
}

// newConfig applies opts with apply (the entry point's method). Without
// options it allocates nothing, which keeps Track cheap on hot paths.
func newConfig[O comparable](opts []O, apply func(O, *config)) (config, error) {
	if len(opts) == 0 {
		return config{sampleInterval: DefaultSampleInterval, fsRoot: "/"}, nil
	}
	c := &config{sampleInterval: DefaultSampleInterval, fsRoot: "/", errs: optcheck.For("spans")}
	var none O
	for _, o := range opts {
		if o == none {
			c.errs.NilOption("option")
			continue
		}
		apply(o, c)
	}
	return *c, c.errs.Err()
}

// WithTracerProvider sets the TracerProvider spans are created with; its
// tracer is made once, when the option is: keep the option to reuse it. A
// nil provider is ignored. The default, looked up per call as otelhttp's
// transport does, is the provider of the span in the context, else
// otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) SpanOption {
	if tp == nil {
		return option(func(*config) {})
	}
	t := newTracer(tp)
	return option(func(c *config) { c.tracer = t })
}

// WithAttributes adds attributes to the span.
func WithAttributes(attrs ...attribute.KeyValue) SpanOption {
	return option(func(c *config) { c.attrs = append(c.attrs, attrs...) })
}

// WithMonitor gives checkpoints a baseline to measure against: the
// monitor's (see otelmem.Monitor.Rebaseline). A nil monitor is an error.
func WithMonitor(m *otelmem.Monitor) LogOption {
	return option(func(c *config) {
		if m == nil {
			c.errs.Nil("WithMonitor", "monitor")
			return
		}
		c.monitor = m
	})
}

// WithLogger sets the logger checkpoints write their line to. The default
// is slog.Default(). A nil logger is an error.
func WithLogger(l *slog.Logger) LogOption {
	return option(func(c *config) {
		if l == nil {
			c.errs.Nil("WithLogger", "logger")
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
func WithSampleInterval(d time.Duration) CmdOption {
	return option(func(c *config) {
		if d < MinSampleInterval {
			c.errs.Bad("WithSampleInterval(%v): interval must be at least %v", d, MinSampleInterval)
			return
		}
		c.sampleInterval = d
	})
}

// WithPropagator sets the propagator TrackCmd injects into the worker's
// environment and ContextFromEnv extracts with. The default is the global
// one if it propagates anything, else W3C trace context and baggage.
func WithPropagator(p propagation.TextMapPropagator) PropagationOption {
	return option(func(c *config) {
		if p == nil {
			c.errs.Nil("WithPropagator", "propagator")
			return
		}
		c.propagator = p
	})
}

// WithSpanName names TrackCmd's span; the default is "worker " and the
// executable's base name. An empty name is an error.
func WithSpanName(name string) CmdOption {
	return option(func(c *config) {
		if name == "" {
			c.errs.Bad(`WithSpanName(""): name is empty`)
			return
		}
		c.spanName = name
	})
}

// tracerFor picks the tracer: the option's, else one from the provider
// that made the span in the context, else the global one. A remote parent (extracted from a
// carrier, as ContextFromEnv does) has no provider of its own: its
// TracerProvider is a no-op, so it counts as no span.
func (c *config) tracerFor(ctx context.Context) trace.Tracer {
	if c.tracer != nil {
		return c.tracer
	}
	if parent := trace.SpanFromContext(ctx); parent.SpanContext().IsValid() && !parent.SpanContext().IsRemote() {
		return newTracer(parent.TracerProvider())
	}
	return newTracer(otel.GetTracerProvider())
}

func newTracer(tp trace.TracerProvider) trace.Tracer {
	return tp.Tracer(ScopeName, tracerOptions...)
}

// tracerOptions are built once: a per-call lookup then allocates less.
var tracerOptions = []trace.TracerOption{trace.WithInstrumentationVersion(Version)}

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
