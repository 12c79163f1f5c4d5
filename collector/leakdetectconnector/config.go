package leakdetectconnector

import (
	"errors"
	"fmt"
	"math"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/memwatch/memwatch/leakdetect"
)

// Config is the connector's configuration.
type Config struct {
	// Metrics are the series analyzed and the signal each one is: when
	// empty, DefaultMetrics.
	Metrics []MetricConfig `mapstructure:"metrics"`
	// Limits name metrics whose value is the memory limit of the resource
	// they come with; findings of that resource carry the time until the
	// leak reaches it. When empty, DefaultLimits.
	Limits []string `mapstructure:"limits"`
	// MaxStreams bounds the streams kept; beyond it the least recently
	// seen is evicted. A stream holds about 7.6 KB after two days, so
	// the default, 100,000, is about 760 MB.
	MaxStreams int `mapstructure:"max_streams"`
	// IdleTimeout drops a stream with no point for this long (its process
	// is gone, or its series renamed).
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
	// TimeScale speeds the analyzer up by this factor (leakdetect's
	// WithTimeScale): a demo or a test finds in a minute what a service
	// shows in an hour. 1, the default, for production.
	TimeScale float64 `mapstructure:"time_scale"`
	// Storage names a storage extension (file_storage) the streams'
	// analyzer state is saved to every SaveInterval and at shutdown, and
	// restored from at start: a restarted Collector continues each stream
	// where it stopped instead of learning its noise again.
	Storage *component.ID `mapstructure:"storage"`
	// SaveInterval is how often the state is saved (default 5 minutes).
	SaveInterval time.Duration `mapstructure:"save_interval"`
}

// MetricConfig maps a metric to one of the analyzer's signals.
type MetricConfig struct {
	// Name is the metric's name, for example process.memory.usage.
	Name string `mapstructure:"name"`
	// Signal is heap_live, rss or goroutines.
	Signal string `mapstructure:"signal"`
	// Attributes, when set, keep only the points whose attributes hold
	// these values (for example a JVM memory pool).
	Attributes map[string]string `mapstructure:"attributes"`
}

// DefaultMetrics are the memory series of the usual receivers and SDKs.
var DefaultMetrics = []MetricConfig{
	{Name: "process.memory.usage", Signal: leakdetect.SignalRSS},
	{Name: "container.memory.working_set", Signal: leakdetect.SignalRSS},
	{Name: "k8s.pod.memory.working_set", Signal: leakdetect.SignalRSS},
	{Name: "memwatch.heap.live", Signal: leakdetect.SignalHeapLive},
	{Name: "jvm.memory.used_after_last_gc", Signal: leakdetect.SignalHeapLive},
	{Name: "go.goroutine.count", Signal: leakdetect.SignalGoroutines},
}

// DefaultLimits are the memory limit series the usual receivers and
// memwatch report.
var DefaultLimits = []string{"memwatch.memory.limit", "k8s.container.memory_limit", "container.memory.limit"}

const (
	defaultMaxStreams  = 100_000
	defaultIdleTimeout = 6 * time.Hour
	defaultSaveEvery   = 5 * time.Minute
)

func createDefaultConfig() *Config {
	return &Config{MaxStreams: defaultMaxStreams, IdleTimeout: defaultIdleTimeout, TimeScale: 1, SaveInterval: defaultSaveEvery}
}

// Validate reports every problem of the configuration at once, naming the
// value at fault.
func (c *Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, m := range c.Metrics {
		switch {
		case m.Name == "":
			errs = append(errs, fmt.Errorf("metrics[%d]: name is empty", i))
		case seen[m.Name]:
			errs = append(errs, fmt.Errorf("metrics[%d]: %q is listed twice", i, m.Name))
		}
		seen[m.Name] = true
		switch m.Signal {
		case leakdetect.SignalHeapLive, leakdetect.SignalRSS, leakdetect.SignalGoroutines:
		default:
			errs = append(errs, fmt.Errorf("metrics[%d] (%q): signal %q; want heap_live, rss or goroutines", i, m.Name, m.Signal))
		}
	}
	for i, l := range c.Limits {
		if l == "" {
			errs = append(errs, fmt.Errorf("limits[%d]: name is empty", i))
		} else if seen[l] {
			errs = append(errs, fmt.Errorf("limits[%d]: %q is also a metric to analyze", i, l))
		}
	}
	if c.MaxStreams <= 0 {
		errs = append(errs, fmt.Errorf("max_streams %d: must be positive", c.MaxStreams))
	}
	if c.SaveInterval <= 0 {
		errs = append(errs, fmt.Errorf("save_interval %v: must be positive", c.SaveInterval))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("idle_timeout %v: must be positive", c.IdleTimeout))
	}
	if !(c.TimeScale >= 1) || math.IsInf(c.TimeScale, 1) {
		errs = append(errs, fmt.Errorf("time_scale %v: must be finite and at least 1", c.TimeScale))
	} else if _, err := leakdetect.NewAnalyzer(leakdetect.WithTimeScale(c.TimeScale)); err != nil {
		errs = append(errs, fmt.Errorf("time_scale %v: %w", c.TimeScale, err))
	}
	return errors.Join(errs...)
}

// metrics and limits are the lists in effect: the configured ones or the
// defaults.
func (c *Config) metrics() []MetricConfig {
	if len(c.Metrics) == 0 {
		return DefaultMetrics
	}
	return c.Metrics
}

func (c *Config) limits() []string {
	if len(c.Limits) == 0 {
		return DefaultLimits
	}
	return c.Limits
}
