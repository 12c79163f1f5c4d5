package baseline

import "time"

// The first version's defaults, as they were.
const (
	defaultThreshold        = 100 << 20
	defaultWarmup           = 20 * time.Minute
	defaultSignificance     = 5.0
	defaultCooldown         = 6 * time.Hour
	defaultMinHeapRate      = 3 << 20
	defaultMinRSSRate       = 8 << 20
	defaultMinGoroutineRate = 30
)

type analyzerConfig struct {
	bucket       time.Duration
	windows      []time.Duration
	maxPoints    int
	minWindow    [signalCount]time.Duration
	minRate      [signalCount]float64
	minGrowth    [signalCount]float64
	significance float64
	halfFraction float64
	cooldown     time.Duration
	clearAfter   time.Duration
	threshold    int64
	warmup       time.Duration
	levelWindow  time.Duration
}

// historyBuckets is how many closed buckets the longest window needs.
func (c *analyzerConfig) historyBuckets() int {
	longest := c.windows[len(c.windows)-1]
	return int(longest/c.bucket) + 4
}

func defaultConfig() analyzerConfig {
	return analyzerConfig{
		bucket: 2 * time.Minute,
		windows: []time.Duration{
			30 * time.Minute, 45 * time.Minute, time.Hour, 80 * time.Minute, 100 * time.Minute,
			2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 6 * time.Hour, 8 * time.Hour,
			12 * time.Hour, 16 * time.Hour, 24 * time.Hour,
		},
		maxPoints:    16,
		minWindow:    [signalCount]time.Duration{30 * time.Minute, time.Hour, 30 * time.Minute},
		minRate:      [signalCount]float64{defaultMinHeapRate, defaultMinRSSRate, defaultMinGoroutineRate},
		minGrowth:    [signalCount]float64{16 << 20, 24 << 20, 50},
		significance: defaultSignificance,
		halfFraction: 0.25,
		cooldown:     defaultCooldown,
		clearAfter:   time.Hour,
		threshold:    defaultThreshold,
		warmup:       defaultWarmup,
		levelWindow:  30 * time.Minute,
	}
}
