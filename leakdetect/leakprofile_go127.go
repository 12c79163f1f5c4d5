//go:build go1.27

package leakdetect

// leakedGoroutines lists, from Go 1.27's goroutineleak profile, the n
// largest groups of goroutines blocked on channels, locks or conditions
// that no running goroutine can reach: leaked for certain, not just piled
// up. Writing the profile runs a GC cycle that detects them.
func leakedGoroutines(n int) ([]string, bool, error) {
	stacks, err := groupedStacks("goroutineleak", n)
	return stacks, true, err
}
