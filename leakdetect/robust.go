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
	if len(v) == 0 {
		return 0
	}
	if len(v) < 8 {
		sum, lo, hi := v[0], v[0], v[0]
		for _, x := range v[1:] {
			// Levels are never NaN: the builtins agree with plain
			// comparisons, without their branches.
			sum, lo, hi = sum+x, min(lo, x), max(hi, x)
		}
		return trimmedMeanFew(sum, lo, hi, len(v))
	}
	lo, hi := len(v)/4, len(v)-len(v)/4
	if len(v) <= 32 {
		sortSmall(v) // few values: a sort beats two selections
	} else {
		// After these two, v[lo:hi] holds the order statistics lo..hi-1.
		selectNth(v, lo)
		selectNth(v[lo:], hi-1-lo)
	}
	var sum float64
	for _, x := range v[lo:hi] {
		sum += x
	}
	return sum / float64(hi-lo)
}

// trimmedMeanFew is the interquartile mean of n values, 1 to 7, from
// their sum, lowest and highest: a quarter of 3 or fewer is none, of 4 to
// 7 one, so it is the mean, less the lowest and highest from 4 on. Points of a
// few buckets take most interquartile means, and need no selection.
func trimmedMeanFew(sum, lo, hi float64, n int) float64 {
	if n < 4 {
		return sum / float64(n)
	}
	return (sum - lo - hi) / float64(n-2)
}

// spreadOfSorted returns the median of v, sorted, and its median absolute
// deviation from it, in float64 whatever v holds (the noise keeps its
// hour of levels as float32). The deviations below the median and those
// above are each sorted already, outward from the middle: their median
// is found by bisecting how many of the smallest come from each side,
// where two selections would partition the values twice; the two agree
// exactly.
func spreadOfSorted[F float32 | float64](v []F) (med, mad float64) {
	n := len(v)
	if n == 0 {
		return 0, 0
	}
	m := n / 2
	med = float64(v[m])
	if n%2 == 0 {
		med = (float64(v[m-1]) + float64(v[m])) / 2
	}
	// below(i) is the i-th deviation below (from the middle out, the
	// middle value of an odd count included), above(j) the j-th above;
	// past either end infinite, before the start minus infinity. Below
	// is med-x, not -(x-med): the same but for the sign of a zero.
	l0, r0 := m-1, m
	if n%2 == 1 {
		l0, r0 = m, m+1
	}
	nb, na := l0+1, n-r0
	// dev is the i-th of the n deviations read from v[from] outward in
	// direction dir.
	dev := func(i, n, from, dir int) float64 {
		switch {
		case i < 0:
			return math.Inf(-1)
		case i >= n:
			return math.Inf(1)
		}
		x := float64(v[from+dir*i])
		if dir < 0 {
			return med - x
		}
		return x - med
	}
	below := func(i int) float64 { return dev(i, nb, l0, -1) }
	above := func(j int) float64 { return dev(j, na, r0, 1) }
	// The k smallest deviations are the a nearest below and the k-a
	// nearest above, for the least a whose next one below is not nearer
	// than the last one taken above.
	k := m + 1
	lo, hi := max(0, k-na), min(k, nb)
	for lo < hi {
		if a := (lo + hi) / 2; below(a) < above(k-a-1) {
			lo = a + 1
		} else {
			hi = a
		}
	}
	a, b := lo, k-lo
	kth := max(below(a-1), above(b-1))
	if n%2 == 1 {
		return med, kth
	}
	// With an even count the median is the mean of the k-th and the one
	// before it: the largest of the k smallest once the k-th is taken out.
	prev := max(below(a-2), above(b-1))
	if above(b-1) > below(a-1) {
		prev = max(below(a-1), above(b-2))
	}
	return med, (prev + kth) / 2
}

// sortSmall sorts v: 8 or 12 values by a network (see sortnet.go), others
// by insertion up to 32 values, where it beats a general sort, by
// slices.Sort beyond.
func sortSmall(v []float64) {
	switch {
	case len(v) == 8:
		sort8(v)
		return
	case len(v) == 12:
		sort12(v)
		return
	case len(v) > 32:
		slices.Sort(v)
		return
	}
	for i := 1; i < len(v); i++ {
		x := v[i]
		j := i
		for j > 0 && v[j-1] > x {
			v[j] = v[j-1]
			j--
		}
		v[j] = x
	}
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
