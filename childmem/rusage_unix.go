//go:build unix

package childmem

import (
	"os"
	"runtime"
	"syscall"
)

// rusageMaxRSS is a child's maximum resident set size from wait4's
// rusage.
func rusageMaxRSS(state *os.ProcessState) (uint64, bool) {
	if state == nil {
		return 0, false
	}
	ru, ok := state.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0, false
	}
	return maxRSSBytes(ru.Maxrss)
}

// selfMaxRSS is this process's own peak resident set size.
func selfMaxRSS() (uint64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return maxRSSBytes(ru.Maxrss)
}

// maxRSSBytes converts ru_maxrss: bytes on macOS, KiB elsewhere.
func maxRSSBytes(v int64) (uint64, bool) {
	if v <= 0 {
		return 0, false
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return uint64(v), true
	}
	return uint64(v) << 10, true
}
