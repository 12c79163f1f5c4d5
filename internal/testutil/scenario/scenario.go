// Package scenario generates synthetic memory series for testing and
// evaluating leak detection: flat services, leaks of heap, RSS and
// goroutines, and the shapes that must not be mistaken for leaks (noise,
// GC sawtooth, warm-up, batch jobs, one-time steps, goroutine bursts, a
// heap filling up to GOMEMLIMIT).
//
// It models what real Go processes do to these series: the live heap
// changes only when a GC cycle ends and holds between cycles (GCPeriod),
// load-driven noise is correlated over minutes (an AR(1) process,
// CorrNoise and CorrTime), RSS follows the heap in use up quickly and is
// returned to the OS slowly (ScavengeTime), samples come irregularly and
// with gaps.
//
// A Scenario is a recipe; Samples turns it into a deterministic series for
// a seed. Sizes are bytes, rates per hour.
package scenario

import (
	"math"
	"math/rand/v2"
	"time"
)

const mb = 1e6

// MB is a megabyte (10^6 bytes), the unit leak rates are stated in.
const MB = mb

// Sample is one point of a series, in the shape leakdetect.Sample has.
type Sample struct {
	Time       time.Time
	HeapLive   uint64
	RSS        uint64
	Goroutines int64
	Limit      uint64
}

// Scenario describes a series.
type Scenario struct {
	Name     string
	Duration time.Duration
	// Interval between samples; with Jitter > 0 each gap is drawn
	// uniformly from Interval*(1-Jitter) .. Interval*(1+Jitter).
	Interval time.Duration
	Jitter   float64
	// No samples from GapAt for GapDuration (a scrape outage, a paused
	// process).
	GapAt, GapDuration time.Duration

	HeapBase float64 // live heap, bytes
	// Noise is the relative standard deviation of independent noise on
	// every reading of the live heap and RSS.
	Noise float64
	// CorrNoise is the relative standard deviation of load-driven noise
	// shared by the live heap and RSS, an AR(1) process whose correlation
	// time is CorrTime.
	CorrNoise float64
	CorrTime  time.Duration
	// GCPeriod > 0 makes the live heap a reading of the last GC: it changes
	// only when a cycle ends (cycles every GCPeriod ± 40%) and holds
	// between them. Independent noise then applies per cycle.
	GCPeriod time.Duration

	// RSSOverhead is RSS over the live heap when there is no churn (1.4
	// by default: runtime, stacks, fragmentation).
	RSSOverhead float64
	// Churn makes RSS swing between ChurnMin (default 1) and ChurnMax
	// times the live heap in a sawtooth: of period ChurnPeriod, or over
	// each GC cycle when ChurnPeriod is 0 and GCPeriod is set.
	ChurnMin, ChurnMax float64
	ChurnPeriod        time.Duration
	// ScavengeTime > 0: RSS above its target is returned to the OS with
	// this time constant instead of at once.
	ScavengeTime time.Duration

	// Limit is the memory limit reported with each sample (0: unknown).
	Limit float64
	// FillStart, FillDuration: from FillStart, RSS climbs linearly to just
	// under Limit over FillDuration and then saws there, the live heap
	// flat (GOGC=off with GOMEMLIMIT set).
	FillStart, FillDuration time.Duration

	Goroutines     float64
	GoroutineNoise float64 // relative standard deviation

	Warmup         float64       // bytes of growth at start that levels off
	WarmupDuration time.Duration // by when it has levelled off
	WarmupLinear   bool          // a straight ramp instead of an exponential approach

	LeakStart     time.Duration
	HeapLeak      float64 // live heap growth, bytes per hour
	RSSLeak       float64 // off-heap RSS growth, bytes per hour
	GoroutineLeak float64 // goroutines per hour
	Step          float64 // bytes added to the live heap once at StepAt, then kept
	RSSStep       float64 // bytes added to RSS alone once at StepAt, then kept
	StepAt        time.Duration
	Batch         float64       // relative extra held by an hourly batch job
	BatchHold     time.Duration // how long each batch holds it
	BatchOffset   time.Duration // when in each hour the batch starts
	BurstFactor   float64       // goroutine bursts: multiply by this
	BurstDuration time.Duration
	BurstEvery    time.Duration
	BurstPhase    time.Duration
}

// Start is the time of every series' first sample.
var Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// gen is the state of one series being generated.
type gen struct {
	s   Scenario
	rng *rand.Rand

	corr      float64       // AR(1) state, relative
	corrT     time.Duration // time of corr
	corrReady bool

	lastGC, nextGC time.Duration
	heldHeap       float64 // live heap as of the last GC
	rss            float64 // RSS including what the scavenger still holds
	rssAt          time.Duration
}

// Samples generates the series for seed.
func (s Scenario) Samples(seed uint64) []Sample {
	g := &gen{s: s, rng: rand.New(rand.NewPCG(seed, 0x6d656d7761746368)), nextGC: -1}
	var out []Sample
	for t := time.Duration(0); t <= s.Duration; t += s.gap(g.rng) {
		if s.GapDuration > 0 && t >= s.GapAt && t < s.GapAt+s.GapDuration {
			continue
		}
		out = append(out, g.sample(t))
	}
	return out
}

func (g *gen) sample(t time.Duration) Sample {
	s := g.s
	cycle := 0.0 // phase within the GC cycle, 0..1
	if s.GCPeriod > 0 {
		for g.nextGC < 0 || t >= g.nextGC {
			at := max(g.nextGC, 0)
			// The heap a cycle marks is the true heap when it ends.
			g.heldHeap = g.trueHeap(at) * (1 + g.corrAt(at)) * (1 + s.Noise*g.rng.NormFloat64())
			g.lastGC = at
			g.nextGC = at + time.Duration(float64(s.GCPeriod)*(0.6+0.8*g.rng.Float64()))
		}
		cycle = float64(t-g.lastGC) / float64(g.nextGC-g.lastGC)
	}
	heap := g.trueHeap(t) * (1 + g.corrAt(t))
	overhead := s.RSSOverhead
	if overhead == 0 {
		overhead = 1.4
	}
	target := heap * overhead
	if s.ChurnMax > 1 {
		lo := s.ChurnMin
		if lo == 0 {
			lo = 1
		}
		phase := cycle
		if s.ChurnPeriod > 0 {
			phase = math.Mod(float64(t), float64(s.ChurnPeriod)) / float64(s.ChurnPeriod)
		}
		target = heap * (lo + (s.ChurnMax-lo)*phase)
	}
	target += s.leakHours(t) * s.RSSLeak
	if s.RSSStep != 0 && t >= s.StepAt {
		target += s.RSSStep
	}
	if s.FillDuration > 0 && t >= s.FillStart {
		f := math.Min(1, float64(t-s.FillStart)/float64(s.FillDuration))
		top := 0.97 * s.Limit
		target += f * (top - target)
		if f == 1 {
			// GC cycles at the limit: a sawtooth just under it.
			target = s.Limit * (0.90 + 0.07*math.Mod(float64(t), float64(45*time.Second))/float64(45*time.Second))
		}
	}
	rss := target
	if s.ScavengeTime > 0 && g.rssAt > 0 && g.rss > target {
		// The scavenger returns freed pages to the OS slowly.
		decay := math.Exp(-float64(t-g.rssAt) / float64(s.ScavengeTime))
		rss = target + (g.rss-target)*decay
	}
	g.rss, g.rssAt = rss, t

	live := heap * (1 + s.Noise*g.rng.NormFloat64())
	if s.GCPeriod > 0 {
		live = g.heldHeap
	}
	rss *= 1 + s.Noise*g.rng.NormFloat64()

	gr := s.Goroutines + s.leakHours(t)*s.GoroutineLeak
	if s.BurstFactor > 1 && s.BurstEvery > 0 {
		if math.Mod(float64(t-s.BurstPhase), float64(s.BurstEvery)) < float64(s.BurstDuration) && t >= s.BurstPhase {
			gr *= s.BurstFactor
		}
	}
	gr *= 1 + s.GoroutineNoise*g.rng.NormFloat64()
	return Sample{
		Time:       Start.Add(t),
		HeapLive:   clampBytes(live),
		RSS:        clampBytes(rss),
		Goroutines: int64(math.Max(1, math.Round(gr))),
		Limit:      clampBytes(s.Limit),
	}
}

// trueHeap is the live heap the program holds at t, before noise.
func (g *gen) trueHeap(t time.Duration) float64 {
	s := g.s
	heap := s.HeapBase + s.warmup(t) + s.leakHours(t)*s.HeapLeak
	if s.Step != 0 && t >= s.StepAt {
		heap += s.Step
	}
	if s.batchActive(t) {
		heap += s.Batch * s.HeapBase
	}
	return heap
}

// corrAt advances the AR(1) load noise to t (t never goes back) and
// returns it.
func (g *gen) corrAt(t time.Duration) float64 {
	s := g.s
	if s.CorrNoise == 0 || s.CorrTime <= 0 {
		return 0
	}
	if !g.corrReady {
		g.corr, g.corrT, g.corrReady = s.CorrNoise*g.rng.NormFloat64(), t, true
	}
	if t > g.corrT {
		a := math.Exp(-float64(t-g.corrT) / float64(s.CorrTime))
		g.corr = a*g.corr + s.CorrNoise*math.Sqrt(1-a*a)*g.rng.NormFloat64()
		g.corrT = t
	}
	return g.corr
}

func (s Scenario) gap(rng *rand.Rand) time.Duration {
	if s.Jitter <= 0 {
		return s.Interval
	}
	f := 1 + s.Jitter*(2*rng.Float64()-1)
	return time.Duration(float64(s.Interval) * f)
}

// warmup rises quickly and levels off by WarmupDuration.
func (s Scenario) warmup(t time.Duration) float64 {
	if s.Warmup == 0 {
		return 0
	}
	if s.WarmupLinear {
		return s.Warmup * math.Min(1, float64(t)/float64(s.WarmupDuration))
	}
	tau := float64(s.WarmupDuration) / 5 // 99% of the way by WarmupDuration
	return s.Warmup * (1 - math.Exp(-float64(t)/tau))
}

func (s Scenario) leakHours(t time.Duration) float64 {
	if t < s.LeakStart {
		return 0
	}
	return (t - s.LeakStart).Hours()
}

func (s Scenario) batchActive(t time.Duration) bool {
	if s.Batch == 0 {
		return false
	}
	inHour := t % time.Hour
	return inHour >= s.BatchOffset && inHour < s.BatchOffset+s.BatchHold
}

func clampBytes(v float64) uint64 {
	if v < 0 {
		return 0
	}
	return uint64(v)
}
