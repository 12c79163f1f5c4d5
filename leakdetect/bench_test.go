package leakdetect

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

// series48h is 48 hours of 10-second samples of a noisy flat service, the
// load the issue bounds memory and time for.
func series48h() []Sample {
	s := scenario.Catalog()
	for _, c := range s {
		if c.Name == "flat, 8% noise" {
			c.Duration = 48 * time.Hour
			var out []Sample
			for _, x := range c.Samples(1) {
				out = append(out, Sample(x))
			}
			return out
		}
	}
	panic("no flat case")
}

// seriesAtStep is days of a noisy flat service sampled every step.
func seriesAtStep(step time.Duration, days int) []Sample {
	for _, c := range scenario.Catalog() {
		if c.Name == "flat, 8% noise" {
			c.Duration, c.Interval = time.Duration(days)*24*time.Hour, step
			var out []Sample
			for _, x := range c.Samples(1) {
				out = append(out, Sample(x))
			}
			return out
		}
	}
	panic("no flat case")
}

// BenchmarkObserve is the mean cost of one Observe over 48 hours of
// 10-second samples and over 7 days at a 1-minute step (a scan's), bucket
// closes and window fits included, with the 99th and 99.9th percentile of
// single calls (most calls only add to a bucket, a few run one evaluation
// step) and, once the series has been fed twice, of each call's least
// time over the passes (own-): what the call itself costs, where a single
// call's time also holds whatever interrupted it. Its baseline does the least any detector must do per sample:
// append to a ring and update running sums.
func BenchmarkObserve(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		samples := series48h()
		var r ringSums
		i := 0
		for b.Loop() {
			r.add(samples[i])
			if i++; i == len(samples) {
				i = 0
			}
		}
	})
	b.Run("10s", func(b *testing.B) { benchObserve(b, series48h()) })
	b.Run("1m", func(b *testing.B) { benchObserve(b, seriesAtStep(time.Minute, 7)) })
}

// ringSums keeps each signal's last day at 2 minutes a bucket, with its
// running sum and sum of squares.
type ringSums struct {
	vals       [signalCount][720]float64
	head       int
	sum, sumSq [signalCount]float64
}

func (r *ringSums) add(s Sample) {
	for i, v := range [signalCount]float64{float64(s.HeapLive), float64(s.RSS), float64(s.Goroutines)} {
		old := r.vals[i][r.head]
		r.vals[i][r.head] = v
		r.sum[i] += v - old
		r.sumSq[i] += v*v - old*old
	}
	r.head = (r.head + 1) % len(r.vals[0])
}

func benchObserve(b *testing.B, samples []Sample) {
	b.ReportAllocs()
	var (
		a     *Analyzer
		i     = len(samples)
		calls = make([]time.Duration, 0, 1<<20)
		// own[j] is sample j's least time over the passes that reached
		// it: its own cost, without what the machine's interruptions
		// add to a single call now and then.
		own    = make([]time.Duration, len(samples))
		passes = -1
	)
	for b.Loop() {
		if i == len(samples) {
			b.StopTimer()
			a, _ = NewAnalyzer()
			i = 0
			passes++
			b.StartTimer()
		}
		start := time.Now()
		a.Observe(samples[i])
		d := time.Since(start)
		if len(calls) < cap(calls) {
			calls = append(calls, d)
		}
		if own[i] == 0 || d < own[i] {
			own[i] = d
		}
		i++
	}
	reportTail(b, calls, "")
	if passes >= 2 {
		// Every sample was reached twice at least.
		reportTail(b, own, "own-")
	}
}

// reportTail reports the 99th and 99.9th percentile of d, sorting it.
func reportTail(b *testing.B, d []time.Duration, prefix string) {
	slices.Sort(d)
	if n := len(d); n > 0 {
		b.ReportMetric(float64(d[n*99/100].Nanoseconds()), prefix+"p99-ns")
		b.ReportMetric(float64(d[n*999/1000].Nanoseconds()), prefix+"p99.9-ns")
	}
}

// BenchmarkAnalyzerMemory reports the heap an Analyzer holds after 48 hours
// of 10-second samples.
func BenchmarkAnalyzerMemory(b *testing.B) {
	for _, tt := range signalSets {
		b.Run(tt.name, func(b *testing.B) {
			var samples []Sample
			for _, s := range series48h() {
				samples = append(samples, tt.keep(s))
			}
			for b.Loop() {
				b.ReportMetric(float64(heldAfter(samples)), "bytes-held")
			}
		})
	}
}

// heldAfter feeds samples to heldAnalyzers new Analyzers and returns the
// heap each holds then: the working buffers every call borrows are shared
// (see buffers), so one analyzer alone would be charged a whole set. It
// reads MemStats, which stops the world: tests and benchmarks only.
func heldAfter(samples []Sample) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	as := make([]*Analyzer, heldAnalyzers)
	for i := range as {
		as[i], _ = NewAnalyzer()
		for _, s := range samples {
			as[i].Observe(s)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(as)
	return (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / heldAnalyzers
}

// heldAnalyzers is how many analyzers heldAfter shares the buffers among:
// a fleet's share of a set is far smaller still.
const heldAnalyzers = 16
