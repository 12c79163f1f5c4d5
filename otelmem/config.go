package otelmem

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/memwatch/memwatch/internal/optcheck"
)

// DefaultLimitRefreshInterval is how often the memory limit (cgroup files,
// host memory) is looked up again. Limits change rarely (a container resized
// in place), so reading them on every collection would be waste.
const DefaultLimitRefreshInterval = time.Minute

// Option configures Start.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	meterProvider        metric.MeterProvider
	runtimeMetrics       bool
	logger               *slog.Logger
	limitRefreshInterval time.Duration
	root                 string
	limitRatio           float64 // WithMemoryLimitFromCgroup; 0 when not given
	now                  func() time.Time
	errs                 optcheck.Errors
}

func newConfig(opts []Option) (config, error) {
	c := config{
		errs:                 optcheck.For("otelmem"),
		meterProvider:        otel.GetMeterProvider(),
		runtimeMetrics:       true,
		logger:               slog.Default(),
		limitRefreshInterval: DefaultLimitRefreshInterval,
		root:                 "/",
		now:                  time.Now,
	}
	for _, o := range opts {
		if o == nil {
			c.errs.NilOption("Option")
			continue
		}
		o.apply(&c)
	}
	return c, c.errs.Err()
}

// WithMeterProvider sets the MeterProvider the instruments are created on.
// A nil provider is ignored; the default is otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp != nil {
			c.meterProvider = mp
		}
	})
}

// WithoutRuntimeInstrumentation stops Start from also starting the contrib
// Go runtime instrumentation (go.memory.used, go.goroutine.count, ...) on the
// same MeterProvider. Use it when the service already starts that itself.
func WithoutRuntimeInstrumentation() Option {
	return optionFunc(func(c *config) { c.runtimeMetrics = false })
}

// WithLogger sets the logger LogCheckpoint writes to. The default is
// slog.Default(). A nil logger is an error.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l == nil {
			c.errs.Nil("WithLogger", "logger")
			return
		}
		c.logger = l
	})
}

// WithLimitRefreshInterval sets how often the memory limit is looked up
// again. It must be positive; the default is DefaultLimitRefreshInterval.
func WithLimitRefreshInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d <= 0 {
			c.errs.Bad("WithLimitRefreshInterval(%v): interval must be positive", d)
			return
		}
		c.limitRefreshInterval = d
	})
}

// WithFSRoot sets the directory under which /proc and /sys/fs/cgroup are
// read, "/" by default. It exists for tests and for agents that see the
// monitored container's file systems mounted elsewhere.
func WithFSRoot(dir string) Option {
	return optionFunc(func(c *config) {
		if dir == "" {
			c.errs.Bad(`WithFSRoot(""): directory is empty`)
			return
		}
		c.root = dir
	})
}

// WithMemoryLimitFromCgroup sets the Go runtime's soft memory limit
// (debug.SetMemoryLimit, what GOMEMLIMIT sets) to ratio times the cgroup's
// memory limit, at Start and whenever the cgroup limit changes (it is
// re-read every WithLimitRefreshInterval), so the GC works harder before
// the kernel's OOM killer acts. With GOMEMLIMIT set in the environment it
// does nothing and logs why. Without a cgroup limit it does nothing; when
// the cgroup's limit is removed it restores the soft limit it replaced. ratio
// must be in (0, 1]; 0.9 leaves room for memory the runtime does not count.
// The applied value shows as memwatch.memory.limit with
// memwatch.memory.limit_source="gomemlimit".
func WithMemoryLimitFromCgroup(ratio float64) Option {
	return optionFunc(func(c *config) {
		if !(ratio > 0 && ratio <= 1) {
			c.errs.Bad("WithMemoryLimitFromCgroup(%v): ratio must be in (0, 1]", ratio)
			return
		}
		c.limitRatio = ratio
	})
}
