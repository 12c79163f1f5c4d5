package leakdetect

import (
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// Sample is one reading of the process's memory. A signal's zero is a
// reading not made or failed (the live heap before the first GC, a series
// missing from a scrape): that signal skips the sample.
type Sample struct {
	Time       time.Time
	HeapLive   uint64 // bytes of live heap marked by the most recent GC (/gc/heap/live:bytes)
	RSS        uint64 // resident set size, bytes
	Goroutines int64
	// Limit is the memory limit that applies to the process (cgroup,
	// GOMEMLIMIT or host memory), bytes; 0 when unknown. It gives a
	// finding its TimeToLimit. 2^62 and above (cgroup v1's "unlimited",
	// 9223372036854771712) is no limit.
	Limit uint64
}

// Signals a Finding can name.
const (
	SignalHeapLive   = "heap_live"
	SignalRSS        = "rss"
	SignalGoroutines = "goroutines"
)

// Reasons a Finding can give.
const (
	// ReasonTrend: the signal has grown steadily over Window, at Rate.
	ReasonTrend = "trend"
	// ReasonThreshold: RSS has grown more than the fixed threshold over
	// the baseline taken when warm-up ended (a fixed rule, judged on a
	// robust level).
	ReasonThreshold = "threshold"
)

// Finding is a suspected leak. Sizes are bytes for heap_live and rss,
// counts for goroutines.
type Finding struct {
	Signal string    // "heap_live", "rss" or "goroutines"
	Time   time.Time // Time of the sample that raised it
	Reason string    // "trend" or "threshold"

	// Rate is the fitted growth per hour over Window.
	Rate int64
	// Growth is how much the signal grew: over Window for a trend, since
	// the baseline for a threshold.
	Growth int64
	// Baseline is the level growth is measured from: the fitted level at
	// the start of Window for a trend; for a threshold the level when
	// warm-up ended, or a day before once the process has run that long.
	Baseline int64
	// Current is the robust level now.
	Current int64
	// Window is the span of history the finding rests on.
	Window time.Duration
	// Significance is how many standard errors the fitted rate is above
	// zero (trend findings; 0 for threshold findings).
	Significance float64
	// TimeToLimit is when, at Rate, memory reaches Sample.Limit: for rss
	// from its current level, for heap_live from RSS growing as many times
	// faster as RSS is larger than the live heap. 0 when the limit is
	// unknown or the signal is goroutines.
	TimeToLimit time.Duration
}

// EventLeakSuspected is the name of the event (a span event or a log
// record) that reports a finding, with the finding's Attributes.
const EventLeakSuspected = "memwatch.leak.suspected"

// Attributes are the finding's attributes as its event carries them:
// memwatch.leak.signal, .reason, .growth, .rate_per_hour, .baseline,
// .current, .window_seconds, .significance, and .time_to_limit_seconds
// when the limit is known. A Collector component that analyzes other
// processes' series reports its findings with the same.
func (f Finding) Attributes() []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		attrSignal.String(f.Signal),
		attrReason.String(f.Reason),
		attrGrowth.Int64(f.Growth),
		attrRate.Int64(f.Rate),
		attrBaseline.Int64(f.Baseline),
		attrCurrent.Int64(f.Current),
		attrWindow.Int64(int64(f.Window.Seconds())),
		attrSignificance.Float64(f.Significance),
	}
	if f.TimeToLimit > 0 {
		attrs = append(attrs, attrTimeToLimit.Int64(int64(f.TimeToLimit.Seconds())))
	}
	return attrs
}

const (
	idxHeap = iota
	idxRSS
	idxGoroutines
	signalCount
)

var signalNames = [signalCount]string{SignalHeapLive, SignalRSS, SignalGoroutines}

func signalIndex(signal string) int {
	for i, n := range signalNames {
		if n == signal {
			return i
		}
	}
	return -1
}

// saturate rounds f to an int64, the largest or smallest one when it is
// beyond them: a level of 2^63 bytes or more (a broken exporter) must not
// wrap to a negative one.
func saturate(f float64) int64 {
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(math.Round(f))
}

// noLimit is where a limit stops being one: cgroup v1 writes "no limit"
// as 2^63 rounded down to a page (9223372036854771712), and no machine
// has 2^62 bytes.
const noLimit = 1 << 62
