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
	eachSampled(rows, func(r *boundRow) scenario.Case { return r.c }, samplings, func(r *boundRow, c scenario.Case) {
		zs, za := boundSampling(c, first, seeds, &r.oracle)
		r.zStar, r.zAt = append(r.zStar, zs), append(r.zAt, za)
	})

	fmt.Println("| case | want | deadline | oracle: detected | latency median / max | z* per sampling (the suite's order: 10 s, 30 s ± 50%, 60 s, gap) | median z at the deadline per sampling |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %d/%d | %s | %s | %s |\n", r.c.Name, r.c.Want, r.c.Deadline,
			r.oracle.detected, r.oracle.runs, r.oracle.latency(), floats(r.zStar), floats(r.zAt))
	}
}

func floats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(s, ", ")
}

// boundSampling runs the oracle over one sampled leak case at every seed,
// adding each series' outcome to t, and returns z* and the median over
// the seeds of the z of the window from the leak's start to its deadline.
func boundSampling(c scenario.Case, first uint64, seeds int, t *tally) (zStar, zAtDeadline float64) {
	value := signalValue(c.Want)
	lengths := boundLengths(c.Deadline)
	se, zStar := twinSpread(c, lengths, first, seeds)
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
	return zStar, zAtDeadline
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
