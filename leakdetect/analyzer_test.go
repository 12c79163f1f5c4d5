package leakdetect

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/compilecheck"
	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

func detector(t *testing.T, opts ...AnalyzerOption) scenario.Detector {
	t.Helper()
	a, err := NewAnalyzer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return func(s scenario.Sample) []scenario.Flag {
		var flags []scenario.Flag
		for _, f := range a.Observe(Sample(s)) {
			flags = append(flags, scenario.Flag{Signal: f.Signal, Time: f.Time})
		}
		return flags
	}
}

// TestTimeToLimit: a leak of known rate under a known limit is forecast to
// reach it: over 12 seeds the first finding's forecast is within 15% in
// the median and within 30% at worst (measured: errors of -20% to +28%;
// the forecast at a first finding rests on a window of an hour or two).
func TestTimeToLimit(t *testing.T) {
	for _, tt := range []struct {
		name       string
		heap, rss  float64 // leak rates, bytes per hour
		rssPerHour float64 // how fast RSS grows
	}{
		{"heap 40 MB/h", 40 * scenario.MB, 0, 1.4 * 40 * scenario.MB},
		{"rss 30 MB/h", 0, 30 * scenario.MB, 30 * scenario.MB},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var errs []float64
			for seed := uint64(1); seed <= 12; seed++ {
				s := heapLeak(tt.heap)
				s.HeapLeak, s.RSSLeak, s.Limit = tt.heap, tt.rss, 2000*scenario.MB
				a, _ := NewAnalyzer()
				found := false
				for _, x := range s.Samples(seed) {
					fs := a.Observe(Sample(x))
					if len(fs) == 0 {
						continue
					}
					f := fs[0]
					rssNow := 1.4*200*scenario.MB + x.Time.Sub(scenario.Start.Add(s.LeakStart)).Hours()*tt.rssPerHour
					want := time.Duration((s.Limit - rssNow) / tt.rssPerHour * float64(time.Hour))
					errs = append(errs, math.Abs(float64(f.TimeToLimit-want))/float64(want))
					if got := a.TimeToLimit(f.Signal); got != f.TimeToLimit {
						t.Errorf("TimeToLimit(%s) = %v, the finding says %v", f.Signal, got, f.TimeToLimit)
					}
					found = true
					break
				}
				if !found {
					t.Fatalf("seed %d: no finding", seed)
				}
			}
			sorted := slices.Clone(errs)
			slices.Sort(sorted)
			median, worst := sorted[len(sorted)/2], sorted[len(sorted)-1]
			if median > 0.15 || worst > 0.30 {
				t.Errorf("forecast errors %.2f: median %.2f, worst %.2f; want at most 0.15 and 0.30", errs, median, worst)
			}
			t.Logf("forecast errors: median %.2f, worst %.2f", median, worst)
		})
	}
}

func heapLeak(rate float64) scenario.Scenario {
	return scenario.Scenario{
		Name: "leak", Duration: 4 * time.Hour, Interval: 10 * time.Second,
		HeapBase: 200 * scenario.MB, Noise: 0.02, Goroutines: 100,
		LeakStart: time.Hour, HeapLeak: rate,
	}
}

// TestFindingExplainsTheLeak checks what a finding says: signal, reason,
// a rate near the true one, growth over its window, the level it grew from.
func TestFindingExplainsTheLeak(t *testing.T) {
	a, err := NewAnalyzer()
	if err != nil {
		t.Fatal(err)
	}
	var got []Finding
	for _, s := range heapLeak(40 * scenario.MB).Samples(1) {
		got = append(got, a.Observe(Sample(s))...)
	}
	if len(got) != 1 {
		t.Fatalf("findings %+v, want exactly one (the cooldown holds the rest)", got)
	}
	f := got[0]
	if f.Signal != SignalHeapLive || f.Reason != ReasonTrend {
		t.Errorf("finding %+v, want a heap_live trend", f)
	}
	if want := 40 * scenario.MB; math.Abs(float64(f.Rate)-want) > 0.3*want {
		t.Errorf("rate %d B/h, want 40 MB/h ± 30%%", f.Rate)
	}
	if f.Window <= 0 || f.Growth <= 0 || f.Current-f.Baseline != f.Growth {
		t.Errorf("window %v growth %d baseline %d current %d do not add up", f.Window, f.Growth, f.Baseline, f.Current)
	}
	if f.Baseline < 190*scenario.MB || f.Baseline > 260*scenario.MB {
		t.Errorf("baseline %d, want near the 200 MB the leak grew from", f.Baseline)
	}
	if f.Significance < DefaultSignificance {
		t.Errorf("significance %v below the default threshold", f.Significance)
	}
	if !a.Suspected(SignalHeapLive) || a.Suspected(SignalGoroutines) {
		t.Error("Suspected does not reflect the finding")
	}
	if r := a.Rate(SignalHeapLive); math.Abs(r-40*scenario.MB) > 0.5*40*scenario.MB {
		t.Errorf("Rate(heap_live) = %v", r)
	}
}

// The rate gauge is fitted when read, over the points its evaluation saw:
// read at every sample or now and then, it gives the same values, and a
// bucket closing between the evaluation and the read does not move it.
func TestRateReadLateIsTheRateEvaluated(t *testing.T) {
	every, _ := NewAnalyzer()
	seldom, _ := NewAnalyzer()
	for i, x := range heapLeak(40 * scenario.MB).Samples(3) {
		every.Observe(Sample(x))
		seldom.Observe(Sample(x))
		for _, sig := range signalNames {
			r := every.Rate(sig)
			if i%37 != 0 {
				continue
			}
			if got := seldom.Rate(sig); got != r {
				t.Fatalf("sample %d: Rate(%s) read late %v, read at every sample %v", i, sig, got, r)
			}
		}
	}
	if r := every.Rate(SignalHeapLive); math.Abs(r-40*scenario.MB) > 0.5*40*scenario.MB {
		t.Errorf("Rate(heap_live) = %v, want 40 MB/h ± 50%%", r)
	}
}

func TestSamplesOutOfOrderAreIgnored(t *testing.T) {
	a, _ := NewAnalyzer()
	s := heapLeak(60 * scenario.MB).Samples(1)
	var n int
	for i, x := range s {
		n += len(a.Observe(Sample(x)))
		if i > 0 {
			// Replays of the past must change nothing.
			n += len(a.Observe(Sample(s[i-1])))
			a.Observe(Sample(x))
		}
	}
	if n != 1 {
		t.Errorf("%d findings, want 1", n)
	}
}

// TestAnalyzerOptions: each analyzer option's bad values are an error
// naming the option and the value.
func TestAnalyzerOptions(t *testing.T) {
	for _, tt := range []struct {
		opt  AnalyzerOption
		want string
	}{
		{WithThreshold(-1), "WithThreshold(-1)"},
		{WithWarmup(0), "WithWarmup(0s)"},
		{WithMinRate("heap", 1), `WithMinRate("heap", 1): unknown signal`},
		{WithMinRate(SignalRSS, 0), `WithMinRate("rss", 0)`},
		{WithMinRate(SignalRSS, math.NaN()), `WithMinRate("rss", NaN)`},
		{WithSignificance(1), "WithSignificance(1)"},
		{WithSignificance(math.NaN()), "WithSignificance(NaN)"},
		{WithMinRate(SignalGoroutines, math.Inf(1)), `WithMinRate("goroutines", +Inf)`},
		{WithTimeScale(math.Inf(1)), "WithTimeScale(+Inf)"},
		{WithTimeScale(1e12), "WithTimeScale(1e+12): leaves a bucket of"},
		{WithCooldown(-time.Second), "WithCooldown(-1s)"},
		{WithTimeScale(0.5), "WithTimeScale(0.5)"},
		{nil, "nil Option"},
	} {
		if _, err := NewAnalyzer(tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewAnalyzer error %v, want one containing %q", err, tt.want)
		}
	}
}

// TestTimeScale: scaled 60x, an hour's leak shows in a minute.
func TestTimeScale(t *testing.T) {
	a, err := NewAnalyzer(WithTimeScale(60), WithThreshold(0))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var got []Finding
	// 20 MB/h scaled 60x is 20 MB per minute; sample every 100 ms.
	for i := range 3000 {
		ts := time.Duration(i) * 100 * time.Millisecond
		heap := 200e6 + 20e6*ts.Minutes()
		got = append(got, a.Observe(Sample{Time: start.Add(ts), HeapLive: uint64(heap), RSS: uint64(1.4 * heap), Goroutines: 50})...)
	}
	if len(got) == 0 || got[0].Signal != SignalHeapLive || got[0].Time.Sub(start) > 2*time.Minute {
		t.Errorf("findings %+v, want heap_live within 2 scaled hours", got)
	}
}

// TestStateIsBounded feeds 48 hours of 10-second samples and checks the
// analyzer holds well under 1 MiB.
func TestStateIsBounded(t *testing.T) {
	if held := heldAfter(series48h()); held > 1<<20 {
		t.Errorf("analyzer holds %d bytes after 48 h, want under 1 MiB", held)
	}
}

// TestBadTimestampsDoNotDisableDetection: a zero time, a sample from the
// future or the far past must not stop the analyzer from finding a leak
// that follows.
func TestBadTimestampsDoNotDisableDetection(t *testing.T) {
	leak := heapLeak(60 * scenario.MB).Samples(1)
	for _, tt := range []struct {
		name string
		bad  Sample
	}{
		{"zero time first", Sample{HeapLive: 1}},
		{"a year ahead first", Sample{Time: scenario.Start.Add(365 * 24 * time.Hour), HeapLive: 1}},
		{"a year back first", Sample{Time: scenario.Start.Add(-365 * 24 * time.Hour), HeapLive: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := NewAnalyzer()
			var found []Finding
			found = append(found, a.Observe(tt.bad)...)
			for i, x := range leak {
				found = append(found, a.Observe(Sample(x))...)
				if i == len(leak)/3 {
					// and once more in the middle of the series
					found = append(found, a.Observe(tt.bad)...)
				}
			}
			if len(found) == 0 || found[0].Signal != SignalHeapLive {
				t.Errorf("findings %+v, want the heap leak found", found)
			}
		})
	}
}

// FuzzObserve: random sample sequences never panic, raise only valid
// signals and reasons, and keep the state bounded.
func FuzzObserve(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := NewAnalyzer()
		if err != nil {
			t.Fatal(err)
		}
		now := scenario.Start
		for i := 0; i+4 <= len(data); i += 4 {
			// Steps of 0 to 255 minutes, sometimes backwards or years ahead.
			step := time.Duration(data[i]) * time.Minute
			switch data[i+1] % 8 {
			case 0:
				step = -step
			case 1:
				step *= 24 * 365
			}
			now = now.Add(step)
			s := Sample{Time: now, HeapLive: uint64(data[i+2]) << 20, RSS: uint64(data[i+3]) << 22, Goroutines: int64(data[i+1])}
			if data[i+1]%16 == 2 {
				s.Time = time.Time{}
			}
			for j := 0; j < 30; j++ { // a few buckets' worth each
				for _, fd := range a.Observe(s) {
					if signalIndex(fd.Signal) < 0 || (fd.Reason != ReasonTrend && fd.Reason != ReasonThreshold) {
						t.Fatalf("finding %+v", fd)
					}
				}
				s.Time = s.Time.Add(10 * time.Second)
				s.HeapLive += uint64(data[i+2]) << 10
			}
			now = s.Time
		}
		for i := range a.signals {
			if a.signals[i].count > len(a.signals[i].levels) {
				t.Fatalf("signal %d holds %d buckets", i, a.signals[i].count)
			}
		}
		b := a.borrow() // most likely the set the calls above gave back
		defer a.giveBack(b)
		if len(b.ptsBuf) > maxPointsCap || cap(b.scratch) > 4*maxBucketSamples {
			t.Fatalf("working buffers grew to %d points, %d values", len(b.ptsBuf), cap(b.scratch))
		}
	})
}

// TestScaledOptionsValidatedInAnyOrder: WithTimeScale is applied last
// whatever the order, given twice the last counts, and a factor that
// leaves nothing of a duration is an error, not a panic.
func TestScaledOptionsValidatedInAnyOrder(t *testing.T) {
	a, err1 := newAnalyzerConfig([]AnalyzerOption{WithTimeScale(60), WithWarmup(time.Hour)})
	b, err2 := newAnalyzerConfig([]AnalyzerOption{WithWarmup(time.Hour), WithTimeScale(10), WithTimeScale(60)})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if a.warmup != time.Minute || b.warmup != time.Minute || a.bucket != b.bucket || a.minRate != b.minRate {
		t.Errorf("warm-up %v and %v, buckets %v and %v: want 1m each, equal", a.warmup, b.warmup, a.bucket, b.bucket)
	}
	for _, tt := range []struct {
		opts []AnalyzerOption
		want string
	}{
		{[]AnalyzerOption{WithTimeScale(math.Inf(1))}, "WithTimeScale(+Inf)"},
		{[]AnalyzerOption{WithTimeScale(math.NaN())}, "WithTimeScale(NaN)"},
		{[]AnalyzerOption{WithTimeScale(1e9)}, "leaves a bucket of"},
		{[]AnalyzerOption{WithWarmup(time.Nanosecond), WithTimeScale(10)}, "WithWarmup(1ns) with WithTimeScale(10)"},
		{[]AnalyzerOption{WithSignificance(math.Inf(1))}, "WithSignificance(+Inf)"},
		{[]AnalyzerOption{WithMinRate(SignalRSS, math.Inf(1))}, `WithMinRate("rss", +Inf)`},
	} {
		if _, err := NewAnalyzer(tt.opts...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewAnalyzer error %v, want one containing %q", err, tt.want)
		}
		if d, err := Start(startOptions(tt.opts)...); err == nil || !strings.Contains(err.Error(), tt.want) {
			if d != nil {
				d.Shutdown(context.Background())
			}
			t.Errorf("Start error %v, want one containing %q", err, tt.want)
		}
	}
}

// TestDetectorOptionsDoNotCompileForNewAnalyzer: options about sampling,
// telemetry and profiles are refused by the compiler, not at run time
// (testdata/wrongoption).
func TestDetectorOptionsDoNotCompileForNewAnalyzer(t *testing.T) {
	compilecheck.Want(t, "testdata/wrongoption")
}

// replay evaluates the case of cases whose name starts with name, at
// sampling sm, for seed.
func replay(t *testing.T, cases []scenario.Case, name string, sm scenario.Sampling, seed uint64) scenario.Result {
	t.Helper()
	for _, c := range cases {
		if strings.HasPrefix(c.Name, name) {
			return scenario.Evaluate(sm.Apply(c), seed, detector(t))
		}
	}
	t.Fatalf("no case %q", name)
	return scenario.Result{}
}

// seeded is one series of a case: its sampling and seed.
type seeded struct {
	sampling scenario.Sampling
	seed     uint64
}

// quiet replays each series of the real suite's case whose name starts with
// name and reports every false alarm.
func quiet(t *testing.T, name string, series ...seeded) {
	t.Helper()
	for _, s := range series {
		if r := replay(t, scenario.RealCatalog(), name, s.sampling, s.seed); r.FalseAlarms > 0 {
			t.Errorf("%s %+v, seed %d: %d false alarms", name, s.sampling, s.seed, r.FalseAlarms)
		}
	}
}

// observeEvery10s runs a fresh analyzer over hours of samples 10 s apart
// from scenario.Start, sample(i, hour) giving the i-th (its Time is set
// here), and returns its findings.
func observeEvery10s(t *testing.T, hours int, sample func(i int, h float64) Sample) []Finding {
	t.Helper()
	a, err := NewAnalyzer()
	if err != nil {
		t.Fatal(err)
	}
	var got []Finding
	for i := range hours * 360 {
		at := scenario.Start.Add(time.Duration(i) * 10 * time.Second)
		s := sample(i, at.Sub(scenario.Start).Hours())
		s.Time = at
		got = append(got, a.Observe(s)...)
	}
	return got
}

// TestZeroIsNotMeasured: a signal reading zero (RSS not read for the
// first hour, the live heap before the first GC) is not memory that
// emptied. The old analyzer took the missing RSS as the threshold's
// baseline and flagged the flat process "300 MB over 0"; a real RSS
// leak after a late start is measured from the first RSS it saw.
func TestZeroIsNotMeasured(t *testing.T) {
	for _, leak := range []float64{0, 60 * scenario.MB} {
		got := observeEvery10s(t, 2*24, func(i int, h float64) Sample {
			wobble := float64(i%7) * 0.5 * scenario.MB
			s := Sample{Goroutines: 200}
			if h >= 10.0/60 { // the first GC
				s.HeapLive = uint64(200*scenario.MB + wobble)
			}
			if h >= 1 {
				s.RSS = uint64(300*scenario.MB + wobble + leak*math.Max(h-6, 0))
			}
			return s
		})
		switch {
		case leak == 0 && len(got) > 0:
			t.Errorf("flat process with RSS read from the first hour on: %+v", got)
		case leak > 0 && (len(got) == 0 || got[0].Signal != SignalRSS || got[0].Baseline < 290*scenario.MB):
			t.Errorf("RSS leak of 60 MB/h from 6 h in: findings %+v, want rss measured from about 300 MB", got)
		}
	}
}

// TestStaleSampleKeepsHistory: one sample more than an hour stale every
// 30 minutes (a replayed old scrape) neither erases the history nor stops
// a 60 MB/h leak from being found.
func TestStaleSampleKeepsHistory(t *testing.T) {
	a, _ := NewAnalyzer()
	s := heapLeak(60 * scenario.MB).Samples(1)
	var found []Finding
	for i, x := range s {
		found = append(found, a.Observe(Sample(x))...)
		if i%180 == 179 { // every 30 minutes at 10 s
			stale := Sample(x)
			stale.Time = x.Time.Add(-2 * time.Hour)
			found = append(found, a.Observe(stale)...)
		}
	}
	if len(found) == 0 || found[0].Signal != SignalHeapLive {
		t.Errorf("findings %+v, want the heap leak found", found)
	}
}

// TestLongGapRestarts: after a silence of 8 hours the process came back
// 30% higher and stays flat (a redeploy): levels from before the gap are
// no baseline for it, and nothing is flagged.
func TestLongGapRestarts(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		s := scenario.Scenario{Name: "flat, gap, higher", Duration: 72 * time.Hour, Interval: 10 * time.Second,
			HeapBase: 200 * scenario.MB, Noise: 0.04, CorrNoise: 0.03, CorrTime: 2 * time.Minute, GCPeriod: time.Minute,
			Goroutines: 200, GoroutineNoise: 0.03, RSSOverhead: 1.4,
			GapAt: 24 * time.Hour, GapDuration: 8 * time.Hour, Step: 60 * scenario.MB, StepAt: 32 * time.Hour}
		a, _ := NewAnalyzer()
		for _, x := range s.Samples(seed) {
			if f := a.Observe(Sample(x)); len(f) > 0 {
				t.Errorf("seed %d: %+v", seed, f[0])
				break
			}
		}
	}
}

// TestNoLimitAndHugeLevels: cgroup v1's "unlimited" is no limit (no time
// to limit, never a negative one), and levels at or above 2^63 saturate
// instead of wrapping negative. The huge levels grow 1% an hour: kept to
// float32 precision (see series), 200 MB/h is below what a level of
// 2^63 resolves, and below the least rate a leak of it needs anyway.
func TestNoLimitAndHugeLevels(t *testing.T) {
	for _, tt := range []struct {
		name       string
		base, rate float64
		lim        uint64
	}{
		{"v1 unlimited", 200 * scenario.MB, 200 * scenario.MB, 9223372036854771712},
		{"levels past 2^63", 1 << 63, 0.01 * (1 << 63), 1 << 63},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := observeEvery10s(t, 6, func(_ int, h float64) Sample {
				v := uint64(tt.base + tt.rate*h)
				return Sample{HeapLive: v, RSS: v, Goroutines: 10, Limit: tt.lim}
			})
			if len(got) == 0 {
				t.Fatalf("no finding for memory growing %.3g bytes an hour", tt.rate)
			}
			for _, f := range got {
				if f.TimeToLimit != 0 || f.Current < 0 || f.Baseline < 0 || f.Growth < 0 || f.Rate < 0 {
					t.Errorf("%s finding: time to limit %v, current %d, baseline %d, growth %d, rate %d; want no time to limit and no negative", f.Signal, f.TimeToLimit, f.Current, f.Baseline, f.Growth, f.Rate)
				}
			}
		})
	}
}
