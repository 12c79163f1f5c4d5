//go:build !go1.27

package leakdetect

// leakedGoroutines needs Go 1.27's goroutineleak profile; built with an
// older Go there is none.
func leakedGoroutines(int) ([]string, bool, error) { return nil, false, nil }
