package scenario

import "time"

// Flag is a detector's verdict on one sample: a signal it suspects.
type Flag struct {
	Signal string
	Time   time.Time
}

// Detector is fed a series sample by sample and returns the flags each
// sample raises.
type Detector func(Sample) []Flag

// Result is how a detector did on one series.
type Result struct {
	// Detected: the wanted signal was flagged after the leak started and
	// within the deadline.
	Detected bool
	// Latency from the leak's start to the first flag of the wanted signal
	// (after the deadline too); -1 when it never came.
	Latency time.Duration
	// FalseAlarms counts flags on a series that must never be flagged, and
	// flags raised before the leak started.
	FalseAlarms int
	// WrongSignal counts flags of another signal after the leak started.
	WrongSignal int
}

// Evaluate runs a fresh detector over the case's series for seed.
func Evaluate(c Case, seed uint64, d Detector) Result {
	r := Result{Latency: -1}
	leakAt := Start.Add(c.LeakStart)
	for _, s := range c.Samples(seed) {
		for _, f := range d(s) {
			switch {
			case c.Want == "" || f.Time.Before(leakAt):
				r.FalseAlarms++
			case f.Signal != c.Want && f.Signal != "any":
				r.WrongSignal++
			case r.Latency < 0:
				r.Latency = f.Time.Sub(leakAt)
				r.Detected = r.Latency <= c.Deadline
			}
		}
	}
	return r
}

// FixedRSSThreshold is the classic fixed-threshold detector: every 5 minutes, one RSS reading
// more than 100 MB over the first reading flags a leak. It cannot tell
// which signal leaks; its flags name the wanted signal's only as "any".
func FixedRSSThreshold() Detector {
	var (
		started  bool
		baseline uint64
		next     time.Time
	)
	return func(s Sample) []Flag {
		if !started {
			started, baseline, next = true, s.RSS, s.Time.Add(5*time.Minute)
			return nil
		}
		if s.Time.Before(next) {
			return nil
		}
		next = next.Add(5 * time.Minute)
		if s.RSS > baseline && s.RSS-baseline > 100<<20 {
			return []Flag{{Signal: "any", Time: s.Time}}
		}
		return nil
	}
}
