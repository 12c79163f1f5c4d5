package baseline

import "github.com/memwatch/memwatch/internal/testutil/scenario"

// Detector feeds a fresh first-version Analyzer a scenario's series and
// returns its findings as flags.
func Detector() scenario.Detector {
	a := NewAnalyzer()
	return func(s scenario.Sample) []scenario.Flag {
		var flags []scenario.Flag
		for _, f := range a.Observe(Sample{Time: s.Time, HeapLive: s.HeapLive, RSS: s.RSS, Goroutines: s.Goroutines}) {
			flags = append(flags, scenario.Flag{Signal: f.Signal, Time: f.Time})
		}
		return flags
	}
}
