package leakdetect

import "math"

// Ordering without branches. On noisy levels a comparison's branch is a
// coin toss for the processor; integer keys that order as the floats do
// let min and max, and so running extremes and sorts, take none. The
// sorting networks are for the groups a window's points most often merge
// (8 and 12 buckets): a fixed sequence of compare-exchanges, Batcher's
// odd-even merge sort cut down to the length; the result is the sort's,
// value for value.

// sortKey maps f to an integer that orders as f does (NaN aside).
func sortKey(f float64) uint64 {
	b := math.Float64bits(f)
	return b ^ (uint64(int64(b)>>63) | 1<<63)
}

// fromSortKey is sortKey's inverse.
func fromSortKey(k uint64) float64 {
	return math.Float64frombits(k ^ (uint64(int64(^k)>>63) | 1<<63))
}

// toKeys fills k with the sort keys of v's first len(k) values.
func toKeys(k []uint64, v []float64) {
	v = v[:len(k)]
	for i := range k {
		k[i] = sortKey(v[i])
	}
}

// fromKeys puts the values of keys k back into v.
func fromKeys(v []float64, k []uint64) {
	v = v[:len(k)]
	for i := range k {
		v[i] = fromSortKey(k[i])
	}
}

// exchange puts the lesser of k[i] and k[j] first.
func exchange(k []uint64, i, j int) {
	a, b := k[i], k[j]
	k[i], k[j] = min(a, b), max(a, b)
}

// sort8 sorts 8 values.
func sort8(v []float64) {
	var k [8]uint64
	toKeys(k[:], v)
	exchange(k[:], 0, 1)
	exchange(k[:], 2, 3)
	exchange(k[:], 4, 5)
	exchange(k[:], 6, 7)
	exchange(k[:], 0, 2)
	exchange(k[:], 1, 3)
	exchange(k[:], 4, 6)
	exchange(k[:], 5, 7)
	exchange(k[:], 1, 2)
	exchange(k[:], 5, 6)
	exchange(k[:], 0, 4)
	exchange(k[:], 1, 5)
	exchange(k[:], 2, 6)
	exchange(k[:], 3, 7)
	exchange(k[:], 2, 4)
	exchange(k[:], 3, 5)
	exchange(k[:], 1, 2)
	exchange(k[:], 3, 4)
	exchange(k[:], 5, 6)
	fromKeys(v, k[:])
}

// sort12 sorts 12 values.
func sort12(v []float64) {
	var k [12]uint64
	toKeys(k[:], v)
	exchange(k[:], 0, 1)
	exchange(k[:], 2, 3)
	exchange(k[:], 4, 5)
	exchange(k[:], 6, 7)
	exchange(k[:], 8, 9)
	exchange(k[:], 10, 11)
	exchange(k[:], 0, 2)
	exchange(k[:], 1, 3)
	exchange(k[:], 4, 6)
	exchange(k[:], 5, 7)
	exchange(k[:], 8, 10)
	exchange(k[:], 9, 11)
	exchange(k[:], 1, 2)
	exchange(k[:], 5, 6)
	exchange(k[:], 9, 10)
	exchange(k[:], 0, 4)
	exchange(k[:], 1, 5)
	exchange(k[:], 2, 6)
	exchange(k[:], 3, 7)
	exchange(k[:], 2, 4)
	exchange(k[:], 3, 5)
	exchange(k[:], 1, 2)
	exchange(k[:], 3, 4)
	exchange(k[:], 5, 6)
	exchange(k[:], 9, 10)
	exchange(k[:], 0, 8)
	exchange(k[:], 1, 9)
	exchange(k[:], 2, 10)
	exchange(k[:], 3, 11)
	exchange(k[:], 4, 8)
	exchange(k[:], 5, 9)
	exchange(k[:], 6, 10)
	exchange(k[:], 7, 11)
	exchange(k[:], 2, 4)
	exchange(k[:], 3, 5)
	exchange(k[:], 6, 8)
	exchange(k[:], 7, 9)
	exchange(k[:], 1, 2)
	exchange(k[:], 3, 4)
	exchange(k[:], 5, 6)
	exchange(k[:], 7, 8)
	exchange(k[:], 9, 10)
	fromKeys(v, k[:])
}
