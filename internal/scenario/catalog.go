package scenario

import (
	"fmt"
	"time"
)

// Case is a scenario with what a detector must make of it.
type Case struct {
	Scenario
	// Want is the signal a detector must flag, or "" when it must never
	// flag anything.
	Want string
	// Deadline is how long after LeakStart the flag must come.
	Deadline time.Duration
}

// base is a flat service: 200 MB live heap, 2% noise, 200 goroutines.
func base(name string, d time.Duration) Scenario {
	return Scenario{
		Name: name, Duration: d, Interval: 10 * time.Second,
		HeapBase: 200 * MB, Noise: 0.02, Goroutines: 200, GoroutineNoise: 0.03,
	}
}

// Catalog returns the cases the leak detector is held to (issue 4): what it
// must flag and by when, and what it must never flag.
func Catalog() []Case {
	var cs []Case
	flag := func(s Scenario, want string, deadline time.Duration) {
		s.Duration = s.LeakStart + deadline + 10*time.Minute
		cs = append(cs, Case{Scenario: s, Want: want, Deadline: deadline})
	}
	never := func(s Scenario) { cs = append(cs, Case{Scenario: s}) }

	s := base("heap 60 MB/h", 0)
	s.LeakStart, s.HeapLeak = time.Hour, 60*MB
	flag(s, "heap_live", 45*time.Minute)
	s = base("heap 60 MB/h from start", 0)
	s.HeapLeak = 60 * MB
	flag(s, "heap_live", 45*time.Minute)

	s = base("heap 20 MB/h", 0)
	s.LeakStart, s.HeapLeak = time.Hour, 20*MB
	flag(s, "heap_live", 2*time.Hour)
	s.Name, s.Noise = "heap 20 MB/h, 7% noise", 0.07
	flag(s, "heap_live", 2*time.Hour)
	s = base("heap 20 MB/h, GC churn RSS 1-3x", 0)
	s.LeakStart, s.HeapLeak, s.ChurnMax, s.ChurnPeriod = time.Hour, 20*MB, 3, 3*time.Minute
	flag(s, "heap_live", 2*time.Hour)
	s = base("heap 20 MB/h, hourly batch +50% 12 min", 0)
	s.LeakStart, s.HeapLeak = time.Hour, 20*MB
	s.Batch, s.BatchHold, s.BatchOffset = 0.5, 12*time.Minute, 20*time.Minute
	flag(s, "heap_live", 3*time.Hour)
	s = base("heap 20 MB/h after 10 h flat", 0)
	s.LeakStart, s.HeapLeak = 10*time.Hour, 20*MB
	flag(s, "heap_live", 2*time.Hour)

	s = base("heap 5 MB/h", 0)
	s.LeakStart, s.HeapLeak = time.Hour, 5*MB
	flag(s, "heap_live", 12*time.Hour)

	s = base("2 GB heap, 2% noise, 80 MB/h", 0)
	s.HeapBase, s.LeakStart, s.HeapLeak = 2000*MB, time.Hour, 80*MB
	flag(s, "heap_live", 3*time.Hour)

	s = base("RSS 30 MB/h, live heap flat", 0)
	s.LeakStart, s.RSSLeak = time.Hour, 30*MB
	flag(s, "rss", 2*time.Hour)

	s = base("goroutines 150/h", 0)
	s.LeakStart, s.GoroutineLeak = time.Hour, 150
	flag(s, "goroutines", 2*time.Hour)

	s = base("flat, 8% noise", 3*24*time.Hour)
	s.Noise = 0.08
	never(s)
	s = base("GC sawtooth RSS 1-3x, 3 min period", 2*24*time.Hour)
	s.ChurnMax, s.ChurnPeriod = 3, 3*time.Minute
	never(s)
	s = base("GC sawtooth RSS 1-2.5x, 40 s period", 24*time.Hour)
	s.ChurnMax, s.ChurnPeriod = 2.5, 40*time.Second
	never(s)
	s = base("warm-up 70 MB in 15 min", 24*time.Hour)
	s.Warmup, s.WarmupDuration = 70*MB, 15*time.Minute
	never(s)
	s = base("hourly batch +50% for 12 min", 2*24*time.Hour)
	s.Batch, s.BatchHold, s.BatchOffset = 0.5, 12*time.Minute, 20*time.Minute
	never(s)
	s = base("one-time step 50 MB", 24*time.Hour)
	s.Step, s.StepAt = 50*MB, 5*time.Hour
	never(s)
	s = base("goroutine bursts 10x for 4 min", 2*24*time.Hour)
	s.BurstFactor, s.BurstDuration, s.BurstEvery, s.BurstPhase = 10, 4*time.Minute, 2*time.Hour, 50*time.Minute
	never(s)
	s = base("flat 2 GB heap, 2% noise", 2*24*time.Hour)
	s.HeapBase = 2000 * MB
	never(s)
	return cs
}

// WithInterval returns c sampled every d, with jitter (0..1) of d.
func (c Case) WithInterval(d time.Duration, jitter float64) Case {
	c.Interval, c.Jitter = d, jitter
	c.Name = fmt.Sprintf("%s [%v±%.0f%%]", c.Name, d, 100*jitter)
	return c
}

// Stress returns harder variants of the catalog's cases: other heap sizes,
// sampling, sawtooth periods and shapes. They are not requirements; they
// show where the defaults stop holding.
func Stress() []Case {
	var cs []Case
	for _, level := range []float64{100 * MB, 500 * MB} {
		tag := fmt.Sprintf(" @%.0f MB", level/MB)
		s := base("flat, 8% noise"+tag, 2*24*time.Hour)
		s.HeapBase, s.Noise = level, 0.08
		cs = append(cs, Case{Scenario: s})
		s = base("heap 20 MB/h, 7% noise"+tag, 0)
		s.HeapBase, s.Noise, s.LeakStart, s.HeapLeak = level, 0.07, 3*time.Hour, 20*MB
		s.Duration = s.LeakStart + 2*time.Hour + 10*time.Minute
		cs = append(cs, Case{Scenario: s, Want: "heap_live", Deadline: 2 * time.Hour})
		s = base("hourly batch +50% for 12 min"+tag, 2*24*time.Hour)
		s.HeapBase, s.Batch, s.BatchHold, s.BatchOffset = level, 0.5, 12*time.Minute, 47*time.Minute
		cs = append(cs, Case{Scenario: s})
		s = base("one-time step 50 MB"+tag, 24*time.Hour)
		s.HeapBase, s.Step, s.StepAt = level, 50*MB, 7*time.Hour+13*time.Minute
		cs = append(cs, Case{Scenario: s})
	}
	s := base("warm-up 70 MB linear over 15 min", 24*time.Hour)
	s.Warmup, s.WarmupDuration, s.WarmupLinear = 70*MB, 15*time.Minute, true
	cs = append(cs, Case{Scenario: s})
	for _, p := range []time.Duration{90 * time.Second, 10 * time.Minute, 25 * time.Minute} {
		s := base(fmt.Sprintf("GC sawtooth RSS 1-3x, %v period", p), 2*24*time.Hour)
		s.ChurnMax, s.ChurnPeriod = 3, p
		cs = append(cs, Case{Scenario: s})
	}
	s = base("goroutine bursts 10x for 5 min hourly, 10% noise", 2*24*time.Hour)
	s.BurstFactor, s.BurstDuration, s.BurstEvery, s.BurstPhase, s.GoroutineNoise = 10, 5*time.Minute, time.Hour, 10*time.Minute, 0.1
	cs = append(cs, Case{Scenario: s})
	s = base("RSS 30 MB/h, GC churn 1-3x", 0)
	s.LeakStart, s.RSSLeak, s.ChurnMax, s.ChurnPeriod = 2*time.Hour, 30*MB, 3, 90*time.Second
	s.Duration = s.LeakStart + 2*time.Hour + 10*time.Minute
	cs = append(cs, Case{Scenario: s, Want: "rss", Deadline: 2 * time.Hour})
	return cs
}
