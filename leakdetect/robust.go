package leakdetect

import (
	"math"
	"slices"
)

// trimmedMean returns the interquartile mean of vals (the mean of the
// middle half) without reordering them: nearly as efficient as the mean on
// normal noise, and a quarter of outliers on either side cannot move it.
func trimmedMean(vals []float64, scratch *[]float64) float64 {
	*scratch = append((*scratch)[:0], vals...)
	return trimmedMeanInPlace(*scratch)
}

// trimmedMeanInPlace reorders v and returns its interquartile mean.
func trimmedMeanInPlace(v []float64) float64 {
	switch len(v) {
	case 0:
		return 0
	case 1, 2:
		return (v[0] + v[len(v)-1]) / 2
	}
	if len(v) < 8 {
		// A quarter of 3 is none, of 4 to 7 one: the mean, less the
		// lowest and highest from 4 on. Points of a few buckets take
		// most interquartile means, and need no selection.
		sum, lo, hi := v[0], v[0], v[0]
		for _, x := range v[1:] {
			sum += x
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		if len(v) < 4 {
			return sum / float64(len(v))
		}
		return (sum - lo - hi) / float64(len(v)-2)
	}
	lo, hi := len(v)/4, len(v)-len(v)/4
	// After these two, v[lo:hi] holds the order statistics lo..hi-1.
	selectNth(v, lo)
	selectNth(v[lo:], hi-1-lo)
	var sum float64
	for _, x := range v[lo:hi] {
		sum += x
	}
	return sum / float64(hi-lo)
}

// medianInPlace reorders v and returns its median.
func medianInPlace(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	m := len(v) / 2
	selectNth(v, m)
	if len(v)%2 == 1 {
		return v[m]
	}
	return (slices.Max(v[:m]) + v[m]) / 2
}

// selectNth reorders v so that v[k] is the value a sort would put there,
// with nothing larger before it and nothing smaller after it (Hoare's
// quickselect: linear on average, where a sort is n log n; the evaluation
// takes many medians).
func selectNth(v []float64, k int) {
	lo, hi := 0, len(v)-1
	for lo < hi {
		// Median of three as the pivot keeps sorted runs linear.
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for pivot < v[j] {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}
