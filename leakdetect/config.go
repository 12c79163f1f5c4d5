package leakdetect

import (
	"log/slog"
	"math"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/internal/clock"
	"github.com/memwatch/memwatch/otelmem"

	"github.com/memwatch/memwatch/internal/optcheck"
)

// Defaults of the analyzer, the decision rule that is evaluated.
const (
	// DefaultThreshold is the fixed rule's limit: RSS growth over the
	// post-warm-up baseline, in bytes (100 MB).
	DefaultThreshold = 100 << 20
	// DefaultWarmup is how long after the first sample the threshold
	// baseline is taken (it is the RSS level of the hour after).
	DefaultWarmup = 20 * time.Minute
	// DefaultSignificance is how many standard errors above zero a fitted
	// growth rate must be.
	DefaultSignificance = 6.0
	// DefaultCooldown is the least time between two findings of the same
	// signal and reason.
	DefaultCooldown = 6 * time.Hour
)

// Default minimum growth rates per hour for a trend finding.
const (
	DefaultMinHeapRate      = 512 << 10 // bytes per hour
	DefaultMinRSSRate       = 512 << 10 // bytes per hour
	DefaultMinGoroutineRate = 30        // goroutines per hour
	// DefaultMinRelativeRate is the least growth per hour of heap_live and
	// rss as a fraction of the level they grow from (1.2%), up to 100 MB;
	// above it, a fraction of the geometric mean of the level and 100 MB
	// (0.6% of 400 MB, 0.19% of 4 GB). Slower growth is a cache filling or
	// fragmentation, not a leak worth waking someone for.
	DefaultMinRelativeRate = 0.012
)

// Defaults of the running detector.
const (
	DefaultInterval       = 10 * time.Second
	DefaultReportInterval = 5 * time.Minute
	DefaultTopN           = 10
	DefaultMaxProfiles    = 10
)

// profileTimeout bounds the profile work behind one finding; past it the
// finding's event goes out without it. No option sets it: a finding must
// not wait on a slow disk.
const profileTimeout = 10 * time.Second

// Option configures Start. Options about sampling, telemetry and profiles
// are Options only; the compiler refuses them to NewAnalyzer.
type Option interface {
	apply(*config)
}

// AnalyzerOption configures the decision rule, for NewAnalyzer and Start
// alike.
type AnalyzerOption interface {
	Option
	analyzerOption()
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type analyzerOptionFunc func(*config)

func (f analyzerOptionFunc) apply(c *config) { f(c) }
func (analyzerOptionFunc) analyzerOption()   {}

type analyzerConfig struct {
	bucket       time.Duration
	windows      []time.Duration
	maxPoints    int
	minWindow    [signalCount]time.Duration
	minRate      [signalCount]float64
	minGrowth    [signalCount]float64
	minRelRate   float64 // heap_live and rss: least growth per hour, a fraction of the level
	minRelGrowth float64 // heap_live and rss: least growth over a window, a fraction of the level
	significance float64
	steadyWindow time.Duration // windows this long judge a rate near the minimum less strictly
	halfFraction float64
	cooldown     time.Duration
	clearAfter   time.Duration
	threshold    int64
	warmup       time.Duration
	levelWindow  time.Duration

	// Derived from the above once the options are applied (see plan),
	// read for every window at every evaluation.
	refits     [windowCount]uint16 // buckets between fits of each window (see refitEvery; a day at most 48)
	coarseFrom int                 // windows[coarseFrom:] are fitted on units (see coarse)
}

// windowCount is how many windows the trend fits, from 30 minutes to a
// day (no option sets them; WithTimeScale shortens each).
const windowCount = 13

var defaultWindows = [windowCount]time.Duration{
	30 * time.Minute, 45 * time.Minute, time.Hour, 80 * time.Minute, 100 * time.Minute,
	2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 6 * time.Hour, 8 * time.Hour,
	12 * time.Hour, 16 * time.Hour, 24 * time.Hour,
}

// plan derives each window's fitting from the options.
func (c *analyzerConfig) plan() {
	c.coarseFrom = len(c.windows)
	for i := len(c.windows) - 1; i >= 0; i-- {
		c.refits[i] = uint16(c.refitEvery(c.windows[i]))
		if c.coarse(c.windows[i]) {
			c.coarseFrom = i
		}
	}
}

// historyBuckets is how many closed buckets the longest window needs, and
// the threshold rule's baseline a window's length ago.
func (c *analyzerConfig) historyBuckets() int {
	longest := c.windows[len(c.windows)-1]
	return int((longest+baselineWindows*c.levelWindow)/c.bucket) + 4
}

// ringBuckets is how many closed buckets a signal keeps at full
// resolution; windows longer than the ring less a unit are fitted on
// units, as is the threshold rule's level a day ago (see units).
func (c *analyzerConfig) ringBuckets() int { return min(c.historyBuckets(), fineBuckets) }

// unitsCap is how many units a signal keeps: none when its ring holds all
// the history the options need.
func (c *analyzerConfig) unitsCap() int {
	if h := c.historyBuckets(); h > fineBuckets {
		return h/unitBuckets + 2
	}
	return 0
}

// coarse reports whether window w is fitted on units.
func (c *analyzerConfig) coarse(w time.Duration) bool {
	return c.unitsCap() > 0 && int(w/c.bucket) > fineBuckets-unitBuckets
}

// refitEvery is how many buckets apart window w is fitted: one point's
// worth, when the window has news.
func (c *analyzerConfig) refitEvery(w time.Duration) int {
	if !c.coarse(w) {
		return int(w/c.bucket+1) / c.maxPoints
	}
	units := int(w/c.bucket)/unitBuckets + 1
	return (units + c.maxPoints - 1) / c.maxPoints * unitBuckets
}

type config struct {
	analyzer analyzerConfig

	interval       time.Duration
	reportInterval time.Duration
	topN           int
	monitor        *otelmem.Monitor
	meterProvider  metric.MeterProvider
	tracerProvider trace.TracerProvider
	loggerProvider log.LoggerProvider // nil: the global one, looked up at Start
	eventsAsLogs   bool
	logger         *slog.Logger
	profileDir     string
	maxProfiles    int
	profileTimeout time.Duration
	sampler        func() (Sample, error)
	onFinding      func(Finding)
	clock          clock.Clock
	timeScale      float64 // WithTimeScale's factor, applied by finish

	errs optcheck.Errors
}

func defaultConfig() config {
	return config{
		errs:           optcheck.For("leakdetect"),
		meterProvider:  otel.GetMeterProvider(),
		tracerProvider: otel.GetTracerProvider(),
		logger:         slog.Default(),
		clock:          clock.Real{},
		analyzer: analyzerConfig{
			bucket:       2 * time.Minute,
			windows:      defaultWindows[:], // shared: never written, WithTimeScale makes its own
			maxPoints:    16,
			minWindow:    [signalCount]time.Duration{30 * time.Minute, time.Hour, 30 * time.Minute},
			minRate:      [signalCount]float64{DefaultMinHeapRate, DefaultMinRSSRate, DefaultMinGoroutineRate},
			minGrowth:    [signalCount]float64{2 << 20, 2 << 20, 50},
			minRelRate:   DefaultMinRelativeRate,
			minRelGrowth: 0.04,
			significance: DefaultSignificance,
			steadyWindow: 8 * time.Hour,
			halfFraction: 0.25,
			cooldown:     DefaultCooldown,
			clearAfter:   time.Hour,
			threshold:    DefaultThreshold,
			warmup:       DefaultWarmup,
			levelWindow:  30 * time.Minute,
		},
		interval:       DefaultInterval,
		reportInterval: DefaultReportInterval,
		topN:           DefaultTopN,
		maxProfiles:    DefaultMaxProfiles,
		profileTimeout: profileTimeout,
	}
}

func newConfig(opts []Option) (config, error) {
	c := defaultConfig()
	for _, o := range opts {
		if o == nil {
			c.errs.NilOption("Option")
			continue
		}
		o.apply(&c)
	}
	c.finish()
	c.analyzer.plan()
	return c, c.errs.Err()
}

func newAnalyzerConfig(opts []AnalyzerOption) (analyzerConfig, error) {
	all := make([]Option, len(opts))
	for i, o := range opts {
		if o != nil {
			all[i] = o
		}
	}
	c, err := newConfig(all)
	if err != nil {
		return analyzerConfig{}, err
	}
	return c.analyzer, nil
}

func (c *config) fail(format string, args ...any) { c.errs.Bad(format, args...) }

// positive reports whether v > 0, recording an error naming the option
// when it is not.
func positive[T time.Duration | int](c *config, name string, v T) bool {
	if v <= 0 {
		c.fail("%s(%v): must be positive", name, v)
		return false
	}
	return true
}

// WithThreshold sets the fixed growth threshold in bytes (default
// 100 MB). 0 turns the threshold rule off; negative is an error.
func WithThreshold(bytes int64) AnalyzerOption {
	return analyzerOptionFunc(func(c *config) {
		if bytes < 0 {
			c.fail("WithThreshold(%d): must not be negative", bytes)
			return
		}
		c.analyzer.threshold = bytes
	})
}

// WithWarmup sets how long after the first sample the threshold baseline
// is taken. It must be positive.
func WithWarmup(d time.Duration) AnalyzerOption {
	return analyzerOptionFunc(func(c *config) {
		if positive(c, "WithWarmup", d) {
			c.analyzer.warmup = d
		}
	})
}

// WithMinRate sets the least growth per hour a trend finding needs for
// signal ("heap_live", "rss": bytes; "goroutines": count). It must be
// positive.
func WithMinRate(signal string, perHour float64) AnalyzerOption {
	return analyzerOptionFunc(func(c *config) {
		i := signalIndex(signal)
		switch {
		case i < 0:
			c.fail("WithMinRate(%q, %v): unknown signal; want heap_live, rss or goroutines", signal, perHour)
		case !(perHour > 0) || math.IsInf(perHour, 1):
			c.fail("WithMinRate(%q, %v): rate must be positive and finite", signal, perHour)
		default:
			c.analyzer.minRate[i] = perHour
		}
	})
}

// WithSignificance sets how many standard errors above zero a fitted rate
// must be (default 6). Lower finds slow leaks sooner and risks false
// alarms on noisy series. It must be at least 2.
func WithSignificance(z float64) AnalyzerOption {
	return analyzerOptionFunc(func(c *config) {
		if !(z >= 2) || math.IsInf(z, 1) {
			c.fail("WithSignificance(%v): must be finite and at least 2", z)
			return
		}
		c.analyzer.significance = z
	})
}

// WithCooldown sets the least time between two findings of one signal and
// reason. It must be positive.
func WithCooldown(d time.Duration) AnalyzerOption {
	return analyzerOptionFunc(func(c *config) {
		if positive(c, "WithCooldown", d) {
			c.analyzer.cooldown = d
		}
	})
}

// WithTimeScale divides every duration of the decision rule (bucket,
// windows, warm-up, cooldown) by factor and multiplies the minimum rates
// by it: a demo or test can then find in a minute what a service would
// show in an hour. It must be finite and at least 1, and leave the
// 2-minute bucket at least a millisecond. It is applied after the other
// options, whatever their order; given twice, the last counts.
func WithTimeScale(factor float64) AnalyzerOption {
	return analyzerOptionFunc(func(c *config) {
		if !(factor >= 1) || math.IsInf(factor, 1) {
			c.fail("WithTimeScale(%v): must be finite and at least 1", factor)
			return
		}
		c.timeScale = factor
	})
}

// finish applies the time scale to the analyzer's durations and rates and
// checks that none rounds to nothing.
func (c *config) finish() {
	f := c.timeScale
	if f <= 1 {
		return
	}
	a := &c.analyzer
	scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) / f) }
	if b := scale(a.bucket); b < time.Millisecond {
		c.fail("WithTimeScale(%v): leaves a bucket of %v; want at least 1ms (a factor of at most %v)", f, b, float64(a.bucket/time.Millisecond))
		return
	}
	a.bucket = scale(a.bucket)
	ws := make([]time.Duration, len(a.windows))
	for i, w := range a.windows {
		ws[i] = scale(w)
	}
	a.windows = ws
	a.steadyWindow = scale(a.steadyWindow)
	for i := range a.minWindow {
		a.minWindow[i] = scale(a.minWindow[i])
		a.minRate[i] *= f
	}
	a.minRelRate *= f
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"WithWarmup", a.warmup}, {"WithCooldown", a.cooldown}} {
		if scale(d.v) <= 0 {
			c.fail("%s(%v) with WithTimeScale(%v): scales to nothing", d.name, d.v, f)
		}
	}
	a.cooldown = scale(a.cooldown)
	a.clearAfter = scale(a.clearAfter)
	a.warmup = scale(a.warmup)
	a.levelWindow = scale(a.levelWindow)
}
