package leakdetect

// Tunables no option sets, each with why it has its value. The options
// and their defaults are in options.go and config.go.

import "time"

// A sample this much earlier than the previous one, or later, is off the
// series' time line; jumpConfirm such samples in a row, each following
// the one before within restartAhead, restart the series. restartAhead is
// 6 hours: after a longer silence the process has most likely restarted
// or been redeployed, and levels from before it are no baseline for the
// ones after (measured in BENCHMARKS.md, "Gaps").
const (
	restartBack  = time.Hour
	restartAhead = 6 * time.Hour
	jumpConfirm  = 3
)

// floorKnee: see floorBase.
const floorKnee = 100e6

// nearLimit: RSS within this fraction of its limit is left to the
// MemoryNearLimit alert.
const nearLimit = 0.85

// stepCostBound: see fitsStep.
const stepCostBound = 3.0

// stepFitRatio: the line must leave clearly less residual than the best
// single step for the growth to count as a trend.
const stepFitRatio = 0.9

// heapExplainsRSS: RSS runs at 1 to 3 times the live heap, so RSS growth
// with live heap growth of at least a quarter of it is the heap's.
const heapExplainsRSS = 0.25

// baselineWindows is how many level windows the threshold's baseline
// spans: an hour. The level now is compared with it at every bucket for
// a day, so a baseline that landed in a dip meets every peak after it;
// over half an hour that happened (BENCHMARKS.md, "The threshold's
// baseline over an hour, and the 16-minute scale held longer").
const baselineWindows = 2

// attributionZ: the heap's growth explains RSS's, or does not, when that
// holds by this many standard errors of the heap's level. One: a 2 GB
// heap held between GC cycles has a 30-minute level ±57 MB, and waiting
// for two left off-heap RSS steps under it unnamed (their own level grows
// uncertain once the step is in its history).
const attributionZ = 1

// thresholdZ is how many standard errors the threshold rule's growth must
// be beyond zero.
const thresholdZ = 4

// maxBucketSamples bounds the samples a bucket's level is read from: 64
// in 2 minutes is a sample every 2 s, finer than any exporter.
const maxBucketSamples = 64

// sawtoothSamples: the fewest samples an RSS level is read from.
const sawtoothSamples = 6

// sawtoothSmooth: a bucket whose median step between successive samples
// is under this fraction of its range climbs in small steps (a sawtooth
// sampled several times a period). Independent noise, or a sawtooth
// sampled at random phases, steps about 0.3 of the range; in about one
// bucket of sixteen it steps less, and the middle of its range is then a
// fair level too.
const sawtoothSmooth = 1.0 / 6

// minPoints is the fewest points a window is fitted on: fewer cannot
// tell a trend from a step or from correlated noise.
const minPoints = 6

// minReadings is how many distinct readings a window of the live heap
// needs, as it needs minPoints points. The live heap is read at the end
// of each GC cycle and holds between them; however many samples a
// window has, it has one reading per cycle, and with GOGC=off cycles can
// be 20 minutes apart: a window of three or four stairs reads its noise
// quiet (BENCHMARKS.md, "A window of the live heap needs six readings").
const minReadings = minPoints

const (
	noiseScaleCount = 7  // blocks of 1 to 64 buckets
	noiseRingCap    = 48 // block means kept per scale
	noiseMinDiffs   = 6  // second differences needed for an estimate
)

// clipBuckets is the hour of bucket levels that clipping is judged by.
const clipBuckets = 31

// freshDiffs: a scale measured from fewer second differences than this is
// held up towards what the scales beneath it implied (see pointVariance),
// by a weight falling from 1 at its first estimate (noiseMinDiffs) to 0
// here: the 8-minute scale for 10 differences, the 16-minute one for 30,
// no other (0: a measured scale has at least noiseMinDiffs). The
// 16-minute scale's hold ends sooner, with the 32-minute scale's first
// estimate (4h16 in). A rough first estimate reads low now and then, and
// flat, correlated noise was flagged just after it; held longer, fast
// leaks under a GC-held heap were found later (BENCHMARKS.md, "A fresh
// scale held up" and "The threshold's baseline over an hour, and the
// 16-minute scale held longer").
var freshDiffs = [noiseScaleCount]int{2: 10, 3: 30}

// youngMost bounds how far the first hour's two measured scales are
// extrapolated: the long-run variance assumed is at most this many times
// the largest they show. Noise correlated over 10 minutes (load that
// wanders) hides most of its variance from second differences of 2- and
// 4-minute blocks; a lower bound drew false trend findings in first hours
// (BENCHMARKS.md, seeds 51 to 75).
const youngMost = 10.0

// maxPointsCap bounds the points a window is fitted on, and maxPairs the
// pairwise slopes a Theil–Sen fit over them takes: the fit's cost is
// quadratic in points, and 32 points resolve a 24-hour window to 45
// minutes.
const (
	maxPointsCap = 32
	maxPairs     = maxPointsCap * (maxPointsCap - 1) / 2
)

// fineBuckets is how many closed buckets a signal keeps at full
// resolution (6h24 of 2-minute buckets): the windows up to 6 hours, the
// noise's hour of levels and the threshold rule's recent levels read
// them. Older history is kept in units of unitBuckets buckets (16
// minutes): a window of 8 hours or more is fitted on points of 30
// minutes or longer, which units of 16 make as well as buckets would
// (BENCHMARKS.md, "Old history in 16-minute units").
const (
	fineBuckets = 192
	unitBuckets = 8
)
