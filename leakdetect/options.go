package leakdetect

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/otelmem"
)

// WithInterval sets how often Start samples memory (default 10 s). It must
// be positive.
func WithInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if positive(c, "WithInterval", d) {
			c.interval = d
		}
	})
}

// WithReportInterval sets how often Start logs its periodic memory
// line (default 5 minutes). It must be positive.
func WithReportInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if positive(c, "WithReportInterval", d) {
			c.reportInterval = d
		}
	})
}

// WithTopN sets how many allocation sites or goroutine stacks a finding
// lists (default 10). It must be positive.
func WithTopN(n int) Option {
	return optionFunc(func(c *config) {
		if positive(c, "WithTopN", n) {
			c.topN = n
		}
	})
}

// WithMonitor makes the detector read memory through m (and log through
// its logger) instead of a monitor of its own. A nil monitor is an error.
func WithMonitor(m *otelmem.Monitor) Option {
	return optionFunc(func(c *config) {
		if m == nil {
			c.errs.Nil("WithMonitor", "monitor")
			return
		}
		c.monitor = m
	})
}

// WithMeterProvider sets where the detector's metrics go. Nil is ignored;
// the default is otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp != nil {
			c.meterProvider = mp
		}
	})
}

// WithTracerProvider sets where the finding spans go. Nil is ignored; the
// default is otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tracerProvider = tp
		}
	})
}

// WithLoggerProvider sets the OpenTelemetry LoggerProvider that
// WithEventsAsLogs emits through. Nil is ignored; the default is the global
// one (go.opentelemetry.io/otel/log/global).
func WithLoggerProvider(lp log.LoggerProvider) Option {
	return optionFunc(func(c *config) {
		if lp != nil {
			c.loggerProvider = lp
		}
	})
}

// WithEventsAsLogs emits a finding's two events, memwatch.leak.suspected
// and memwatch.leak.gc, as OpenTelemetry log records with that event name
// (the Logs API, where the specification moves events) instead of as span
// events. The records are emitted in the context of the finding's span, so
// they carry its trace and span IDs. The finding's span is still made. Span
// events stay the default until the Go SDK can bridge one to the other;
// with this option nothing is emitted twice.
func WithEventsAsLogs() Option {
	return optionFunc(func(c *config) { c.eventsAsLogs = true })
}

// WithLogger sets the logger for the periodic line and the leak report
// (default slog.Default()). A nil logger is an error.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errs.Nil("WithLogger", "logger")
			return
		}
		c.logger = l
	})
}

// WithProfileDir makes the detector write the baseline heap profile (when
// warm-up ends) and a current one at each finding into dir, as .pb.gz files
// with mode 0600, and name them in the finding's event: go tool pprof
// -diff_base BASE CURRENT then opens the leak. Start creates dir (0700)
// when it is missing and refuses a file, or a directory anyone may write
// to without the sticky bit. Files are written under a temporary name and
// renamed into place (a planted file or symlink is replaced, never
// followed). Besides this run's baseline, the directory keeps at most
// WithMaxProfiles memwatch profiles (of this run and earlier ones) and
// 256 MiB in all, the oldest removed first.
func WithProfileDir(dir string) Option {
	return optionFunc(func(c *config) {
		if dir == "" {
			c.fail(`WithProfileDir(""): directory is empty`)
			return
		}
		c.profileDir = dir
	})
}

// WithMaxProfiles bounds how many memwatch profiles WithProfileDir's
// directory keeps besides this run's baseline (default 10; the oldest go
// first). It must be positive.
func WithMaxProfiles(n int) Option {
	return optionFunc(func(c *config) {
		if positive(c, "WithMaxProfiles", n) {
			c.maxProfiles = n
		}
	})
}

// WithSampler replaces the detector's memory readings, for example to
// replay a recording. A zero Time in a sample is filled with the
// detector's clock. A nil sampler is an error. What a finding carries
// besides the readings (forced GC, heap profiles, allocation sites, the
// report) is still of this process: to watch another process, feed its
// samples to an Analyzer, as `memwatch watch` does.
func WithSampler(f func() (Sample, error)) Option {
	return optionFunc(func(c *config) {
		if f == nil {
			c.errs.Nil("WithSampler", "sampler")
			return
		}
		c.sampler = f
	})
}

// WithOnFinding calls f after each finding has been reported (span, log,
// forced GC), on the detector's goroutine: keep it short. A panic in f is
// recovered. A nil f is an error.
func WithOnFinding(f func(Finding)) Option {
	return optionFunc(func(c *config) {
		if f == nil {
			c.errs.Nil("WithOnFinding", "function")
			return
		}
		c.onFinding = f
	})
}
