//go:build !(linux || freebsd || netbsd || openbsd || dragonfly || darwin)

package spans

import "os"

// peakRSS is unknown where the platform has no rusage.
func peakRSS(*os.ProcessState) (uint64, bool) { return 0, false }
