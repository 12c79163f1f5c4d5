package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

// The bound (-bound) is what a detector could do at best on a suite's
// leaks, whatever its method. It is an oracle: it knows the noise of each
// series exactly, because it measures it on the leak's twin (the same
// scenario with the leak taken out, run for 3 days, at the same seeds).
// Every 2 minutes it fits a least-squares line to the wanted signal over
// windows of every length up to the deadline, and flags when a slope is
// more than z* of its true standard error over zero, z* being the least
// that flags no twin in the whole 3 days. Under stationary noise least
// squares is, in long windows, as sharp as the best linear unbiased
// estimate of a linear trend (Grenander's theorem), so a leak the oracle
// misses by its deadline in many series is out of reach of any detector
// that must stay silent on the twins.

// boundGrid is the spacing of window ends and of the shortest lengths.
const boundGrid = 2 * time.Minute

// twinDuration is how long a twin runs: as long as a realistic case that
// must never be flagged.
const twinDuration = 3 * 24 * time.Hour

// boundLengths are the window lengths tried: every 2 minutes from 10
// minutes to an hour, every 10 minutes to 4 hours, then every 30.
func boundLengths(deadline time.Duration) []int {
	var ls []int
	step := boundGrid
	for l := 10 * time.Minute; l <= deadline; l += step {
		ls = append(ls, int(l/boundGrid))
		switch {
		case l >= 4*time.Hour:
			step = 30 * time.Minute
		case l >= time.Hour:
			step = 10 * time.Minute
		}
	}
	return ls
}

// sums are prefix sums of one series' samples: time in hours, value in
// MB, so a slope is in MB an hour. at[g] is how many samples come at or
// before grid point g.
type sums struct {
	t, tt, y, ty []float64
	at           []int
	interval     float64 // hours between samples, nominal
}

func newSums(samples []scenario.Sample, value func(scenario.Sample) float64, d, interval time.Duration) *sums {
	s := &sums{t: []float64{0}, tt: []float64{0}, y: []float64{0}, ty: []float64{0}, interval: interval.Hours()}
	for _, x := range samples {
		t := x.Time.Sub(scenario.Start).Hours()
		y := value(x) / scenario.MB
		k := len(s.t) - 1
		s.t = append(s.t, s.t[k]+t)
		s.tt = append(s.tt, s.tt[k]+t*t)
		s.y = append(s.y, s.y[k]+y)
		s.ty = append(s.ty, s.ty[k]+t*y)
	}
	i := 0
	for g := 0; g <= int(d/boundGrid); g++ {
		end := (time.Duration(g) * boundGrid).Hours()
		for i < len(samples) && samples[i].Time.Sub(scenario.Start).Hours() <= end {
			i++
		}
		s.at = append(s.at, i)
	}
	return s
}

// slope is the least-squares slope over the samples after grid point
// from and up to grid point to, and false when the window holds under
// half the samples its length should (a gap) or fewer than 3.
func (s *sums) slope(from, to int) (float64, bool) {
	a, b := s.at[from], s.at[to]
	n := float64(b - a)
	want := float64(to-from) * boundGrid.Hours() / s.interval
	if n < 3 || n < want/2 {
		return 0, false
	}
	st, stt := s.t[b]-s.t[a], s.tt[b]-s.tt[a]
	sy, sty := s.y[b]-s.y[a], s.ty[b]-s.ty[a]
	sxx := stt - st*st/n
	if sxx <= 0 {
		return 0, false
	}
	return (sty - st*sy/n) / sxx, true
}

func signalValue(signal string) func(scenario.Sample) float64 {
	switch signal {
	case "heap_live":
		return func(x scenario.Sample) float64 { return float64(x.HeapLive) }
	case "rss":
		return func(x scenario.Sample) float64 { return float64(x.RSS) }
	case "goroutines":
		// newSums reads it in millions, as bytes in MB: a z is the same at any scale.
		return func(x scenario.Sample) float64 { return float64(x.Goroutines) }
	}
	return nil
}

// boundRow is the oracle's outcome on one leak case over every sampling.
type boundRow struct {
	c          scenario.Case
	oracle     tally
	zStar, zAt []float64 // per sampling: the threshold, the median z at the deadline
	// lookalikes counts, by never-flag case, the series the oracle's rule
	// (this case's errors and z*) flags when applied to it, of looked.
	lookalikes map[string]int
	looked     int
}

// bound runs the oracle over every leak among cases.
func bound(cases []scenario.Case, samplings []scenario.Sampling, first uint64, seeds int, only string) {
	var rows []*boundRow
	for _, c := range cases {
		if c.Want != "" && signalValue(c.Want) != nil && strings.Contains(c.Name, only) {
			rows = append(rows, &boundRow{c: c})
		}
	}
	if len(rows) == 0 {
		fmt.Println("No leak in this suite.")
		return
	}
	var nevers []scenario.Case
	for _, c := range cases {
		if c.Want == "" {
			nevers = append(nevers, c)
		}
	}
	eachSampled(rows, func(r *boundRow) scenario.Case { return r.c }, samplings, func(r *boundRow, c scenario.Case, sm scenario.Sampling) {
		zs, za, o := boundSampling(c, first, seeds, &r.oracle)
		r.zStar, r.zAt = append(r.zStar, zs), append(r.zAt, za)
		if lookalikes {
			if r.lookalikes == nil {
				r.lookalikes = map[string]int{}
			}
			r.looked += o.flagNevers(r.c, nevers, sm, first, seeds, r.lookalikes)
		}
	})

	fmt.Println("| case | want | deadline | oracle: detected | latency median / max | z* per sampling (the suite's order: 10 s, 30 s ± 50%, 60 s, gap) | median z at the deadline per sampling | never-flag series its rule flags |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %d/%d | %s | %s | %s | %s |\n", r.c.Name, r.c.Want, r.c.Deadline,
			r.oracle.detected, r.oracle.runs, r.oracle.latency(), floats(r.zStar), floats(r.zAt), flagged(r))
	}
}

// lookalikes (-lookalikes) applies each leak's oracle to the suite's
// never-flag cases of the same noise.
var lookalikes bool

// flagged lists the never-flag cases the row's oracle flags, most first.
func flagged(r *boundRow) string {
	if r.looked == 0 {
		return "-"
	}
	names := make([]string, 0, len(r.lookalikes))
	total := 0
	for n, k := range r.lookalikes {
		names = append(names, n)
		total += k
	}
	if total == 0 {
		return fmt.Sprintf("0 of %d", r.looked)
	}
	slices.SortFunc(names, func(a, b string) int { return r.lookalikes[b] - r.lookalikes[a] })
	var parts []string
	for _, n := range names[:min(3, len(names))] {
		parts = append(parts, fmt.Sprintf("%s: %d", n, r.lookalikes[n]))
	}
	return fmt.Sprintf("%d of %d (%s)", total, r.looked, strings.Join(parts, "; "))
}

// sameNoise reports whether two scenarios have the same level and noise
// (what the oracle's errors were measured on), whatever else they add.
func sameNoise(a, b scenario.Scenario) bool {
	return a.HeapBase == b.HeapBase && a.Noise == b.Noise && a.CorrNoise == b.CorrNoise && a.CorrTime == b.CorrTime &&
		a.GCPeriod == b.GCPeriod && a.RSSOverhead == b.RSSOverhead && a.ChurnMin == b.ChurnMin && a.ChurnMax == b.ChurnMax &&
		a.ChurnPeriod == b.ChurnPeriod && a.ScavengeTime == b.ScavengeTime && a.Goroutines == b.Goroutines &&
		a.GoroutineNoise == b.GoroutineNoise
}

// oracleRule is the oracle of one sampled leak case: the signal it reads,
// the window lengths, their true slope errors and z*.
type oracleRule struct {
	value    func(scenario.Sample) float64
	lengths  []int
	se       []float64
	zStar    float64
	interval time.Duration
}

// flags reports whether the rule flags any window of the series.
func (o *oracleRule) flags(samples []scenario.Sample, d time.Duration) bool {
	s := newSums(samples, o.value, d, o.interval)
	for end := 1; end < len(s.at); end++ {
		for k, l := range o.lengths {
			if l > end {
				break
			}
			if b, ok := s.slope(end-l, end); ok && b/o.se[k] > o.zStar {
				return true
			}
		}
	}
	return false
}

// flagNevers applies the rule of leak to every never-flag case with the
// same noise (the leak's twin plus a warm-up, a step, a batch job...)
// under sampling sm at every seed, adds the series it flags to by (by
// case name) and returns how many series it looked at. A look-alike
// flagged is a series any detector must stay silent on that the oracle's
// rule, which was calibrated on flat twins alone, would not.
func (o *oracleRule) flagNevers(leak scenario.Case, nevers []scenario.Case, sm scenario.Sampling, first uint64, seeds int, by map[string]int) int {
	looked := 0
	for _, n := range nevers {
		if !sameNoise(leak.Scenario, n.Scenario) || (n.Samplings != nil && !slices.Contains(n.Samplings, sm)) {
			continue
		}
		c := sm.Apply(n)
		for i := range seeds {
			looked++
			if o.flags(c.Samples(first+uint64(i)), c.Duration) {
				by[n.Name]++
			}
		}
	}
	return looked
}

func floats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(s, ", ")
}

// boundSampling runs the oracle over one sampled leak case at every seed,
// adding each series' outcome to t, and returns z*, the median over the
// seeds of the z of the window from the leak's start to its deadline, and
// the rule.
func boundSampling(c scenario.Case, first uint64, seeds int, t *tally) (zStar, zAtDeadline float64, rule *oracleRule) {
	value := signalValue(c.Want)
	lengths := boundLengths(c.Deadline)
	se, zStar := twinSpread(c, lengths, first, seeds)
	rule = &oracleRule{value: value, lengths: lengths, se: se, zStar: zStar, interval: c.Interval}
	onset := int(c.LeakStart / boundGrid)
	last := onset + int(c.Deadline/boundGrid)
	longest := lengths[len(lengths)-1]
	var atDeadline []float64
	for i := range seeds {
		s := newSums(c.Samples(first+uint64(i)), value, c.Duration, c.Interval)
		if b, ok := s.slope(last-longest, last); ok {
			atDeadline = append(atDeadline, b/se[len(se)-1])
		}
		found := false
		for end := onset + 1; end < len(s.at) && !found; end++ {
			for k, l := range lengths {
				if l > end {
					break
				}
				if b, ok := s.slope(end-l, end); ok && b/se[k] > zStar {
					lat := time.Duration(end-onset) * boundGrid
					t.add(scenario.Result{Detected: lat <= c.Deadline, Latency: lat})
					found = true
					break
				}
			}
		}
		if !found {
			t.add(scenario.Result{Latency: -1})
		}
	}
	slices.Sort(atDeadline)
	if len(atDeadline) > 0 {
		zAtDeadline = atDeadline[len(atDeadline)/2]
	}
	return zStar, zAtDeadline, rule
}

// twinSpread runs the twins of c (the leak taken out, 3 days long) at
// every seed and returns the standard error of the least-squares slope at
// each window length (the root mean square over every window of every
// twin) and z*, the largest slope any twin shows at any length in errors.
func twinSpread(c scenario.Case, lengths []int, first uint64, seeds int) (se []float64, zStar float64) {
	value := signalValue(c.Want)
	twin := c
	twin.HeapLeak, twin.RSSLeak, twin.GoroutineLeak = 0, 0, 0
	twin.Duration = max(twin.Duration, twinDuration)
	sumSq := make([]float64, len(lengths))
	count := make([]float64, len(lengths))
	largest := make([][]float64, seeds)
	for i := range seeds {
		s := newSums(twin.Samples(first+uint64(i)), value, twin.Duration, c.Interval)
		largest[i] = make([]float64, len(lengths))
		for k, l := range lengths {
			largest[i][k] = math.Inf(-1)
			for end := l; end < len(s.at); end++ {
				if b, ok := s.slope(end-l, end); ok {
					sumSq[k] += b * b
					count[k]++
					largest[i][k] = max(largest[i][k], b)
				}
			}
		}
	}
	se = make([]float64, len(lengths))
	for k := range lengths {
		se[k] = math.Sqrt(sumSq[k] / count[k])
		for i := range seeds {
			zStar = max(zStar, largest[i][k]/se[k])
		}
	}
	return se, zStar
}
