package leakdetect

import "math"

// midrange2 is the middle of the second-lowest and second-highest of v
// (at least two values).
func midrange2(v []float64) float64 {
	lo1, lo2 := math.Inf(1), math.Inf(1)
	hi1, hi2 := math.Inf(-1), math.Inf(-1)
	for _, x := range v {
		if x < lo1 {
			lo1, lo2 = x, lo1
		} else if x < lo2 {
			lo2 = x
		}
		if x > hi1 {
			hi1, hi2 = x, hi1
		} else if x > hi2 {
			hi2 = x
		}
	}
	return (lo2 + hi2) / 2
}

// openLevel is the open bucket's level, and the level of its own samples
// (the two differ only for a sparse RSS bucket): the interquartile mean of
// its samples, or for RSS the middle of their range (of fewer than six,
// the mean of six with the buckets' before). A GC sawtooth fills a bucket
// evenly between its trough and peak, however many periods and part of one
// the bucket holds; the middle of the range finds
// its centre where a mean would depend on where the bucket cut the last
// period. When the samples climb in small steps between drops, the
// sawtooth is sampled finely enough that its extremes are its trough and
// peak, and the middle of the full range is exact; otherwise the
// second-lowest and second-highest keep one noisy sample from moving it.
func (s *series) openLevel() (level, own float64) {
	if !s.sawtooth {
		level = trimmedMean(s.openVals, &s.scratch)
		return level, level
	}
	vals := s.openVals
	if len(vals) < sawtoothSamples {
		own = trimmedMean(s.openVals, &s.scratch)
		// Sampled sparsely, a bucket holds a few phases of the sawtooth,
		// and which ones repeats with the sampling: every 60 s, a 90-s
		// sawtooth gives two phases a bucket, the same three pairs in
		// turn, a wave in the levels. The newest samples of the buckets
		// before make up the six, so that they cover the phases, and the
		// level is their mean: a sawtooth sampled this sparsely has no
		// trough and peak to find, and of six samples at random phases
		// (or with noise) the mean is the surer estimate of the centre
		// (its error 0.118 of the swing, the second extremes' 0.133).
		vals = append(s.pooled[:0], s.prevVals[max(0, len(s.prevVals)+len(vals)-sawtoothSamples):]...)
		vals = append(vals, s.openVals...)
		s.pooled = vals
		if len(vals) < sawtoothSamples {
			return own, own
		}
		var sum float64
		for _, v := range vals {
			sum += v
		}
		return sum / float64(len(vals)), own
	}
	if lo, hi, step := rangeAndStep(vals, &s.scratch); step < sawtoothSmooth*(hi-lo) {
		level = (lo + hi) / 2
	} else {
		level = midrange2(vals)
	}
	return level, level
}

// keepNewest keeps the newest samples of the bucket just closed (and of
// those before when it held fewer) for the next bucket's level.
func (s *series) keepNewest() {
	if !s.sawtooth {
		return
	}
	n := len(s.openVals)
	if n >= sawtoothSamples-1 {
		s.prevVals = append(s.prevVals[:0], s.openVals[n-(sawtoothSamples-1):]...)
		return
	}
	keep := min(len(s.prevVals), sawtoothSamples-1-n)
	s.prevVals = append(s.prevVals[:0], s.prevVals[len(s.prevVals)-keep:]...)
	s.prevVals = append(s.prevVals, s.openVals...)
}

// rangeAndStep returns the lowest and highest of v (in time order) and
// the median absolute difference between successive values.
func rangeAndStep(v []float64, scratch *[]float64) (lo, hi, step float64) {
	lo, hi = v[0], v[0]
	d := (*scratch)[:0]
	for i := 1; i < len(v); i++ {
		lo, hi = min(lo, v[i]), max(hi, v[i])
		d = append(d, math.Abs(v[i]-v[i-1]))
	}
	*scratch = d
	return lo, hi, medianInPlace(d)
}
