//go:build linux || freebsd || netbsd || openbsd || dragonfly || darwin

package spans

import (
	"os"
	"runtime"
	"syscall"
)

// peakRSS is the child's maximum resident set size from wait4's rusage,
// which macOS reports in bytes and the others in KiB.
func peakRSS(state *os.ProcessState) (uint64, bool) {
	ru, ok := state.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil || ru.Maxrss <= 0 {
		return 0, false
	}
	if runtime.GOOS == "darwin" {
		return uint64(ru.Maxrss), true
	}
	return uint64(ru.Maxrss) * 1024, true
}
