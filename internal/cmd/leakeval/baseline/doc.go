// Package baseline is leakdetect's Analyzer as first released (commit
// 538bb09), frozen: the baseline leakeval measures the cost of the later
// changes against, on the same series in the same run. The criteria allow
// about 15 minutes of median latency for holding on real series; a
// comparison with numbers measured once, on other seeds and samplings,
// cannot show that. Do not change it: its value is that it does not move.
// Only what deciding needs is kept (its options, detector and accessors
// are cut); its comments are the first version's and name options this
// copy no longer has.
//
// It flags series the current analyzer must not (noise correlated over
// minutes, a live heap held between GC cycles, large processes, GC
// sawtooth that beats with its buckets); leakeval runs it on leaks only.
package baseline
