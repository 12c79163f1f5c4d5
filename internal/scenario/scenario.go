// Package scenario generates synthetic memory series for testing and
// evaluating leak detection: flat services, leaks of heap, RSS and
// goroutines, and the shapes that must not be mistaken for leaks (noise,
// GC sawtooth, warm-up, batch jobs, one-time steps, goroutine bursts).
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

// Sample is one point of a series, in the shape leakdetect.Sample has.
type Sample struct {
	Time       time.Time
	HeapLive   uint64
	RSS        uint64
	Goroutines int64
}

// Scenario describes a series.
type Scenario struct {
	Name     string
	Duration time.Duration
	// Interval between samples; with Jitter > 0 each gap is drawn
	// uniformly from Interval*(1-Jitter) .. Interval*(1+Jitter).
	Interval time.Duration
	Jitter   float64

	HeapBase float64 // live heap, bytes
	Noise    float64 // relative standard deviation of the live heap and RSS
	// RSSOverhead is RSS over the live heap when there is no churn (1.4
	// by default: runtime, stacks, fragmentation).
	RSSOverhead float64
	// Churn makes RSS swing between 1x and ChurnMax x the live heap in a
	// sawtooth of period ChurnPeriod (GC cycles).
	ChurnMax    float64
	ChurnPeriod time.Duration

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

// Samples generates the series for seed.
func (s Scenario) Samples(seed uint64) []Sample {
	rng := rand.New(rand.NewPCG(seed, 0x6d656d7761746368))
	overhead := s.RSSOverhead
	if overhead == 0 {
		overhead = 1.4
	}
	var out []Sample
	for t := time.Duration(0); t <= s.Duration; t += s.gap(rng) {
		heap := s.HeapBase + s.warmup(t) + s.leakHours(t)*s.HeapLeak
		if s.Step != 0 && t >= s.StepAt {
			heap += s.Step
		}
		if s.batchActive(t) {
			heap += s.Batch * s.HeapBase
		}
		rss := heap * overhead
		if s.ChurnMax > 1 {
			phase := math.Mod(float64(t), float64(s.ChurnPeriod)) / float64(s.ChurnPeriod)
			rss = heap * (1 + (s.ChurnMax-1)*phase)
		}
		rss += s.leakHours(t) * s.RSSLeak
		if s.RSSStep != 0 && t >= s.StepAt {
			rss += s.RSSStep
		}
		heap *= 1 + s.Noise*rng.NormFloat64()
		rss *= 1 + s.Noise*rng.NormFloat64()

		g := s.Goroutines + s.leakHours(t)*s.GoroutineLeak
		if s.BurstFactor > 1 && s.BurstEvery > 0 {
			if math.Mod(float64(t-s.BurstPhase), float64(s.BurstEvery)) < float64(s.BurstDuration) && t >= s.BurstPhase {
				g *= s.BurstFactor
			}
		}
		g *= 1 + s.GoroutineNoise*rng.NormFloat64()
		out = append(out, Sample{
			Time:       Start.Add(t),
			HeapLive:   clampBytes(heap),
			RSS:        clampBytes(rss),
			Goroutines: int64(math.Max(1, math.Round(g))),
		})
	}
	return out
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

// MB is a megabyte (10^6 bytes), the unit leak rates are stated in.
const MB = mb
