//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

var forwardedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// signaled returns the number of the signal that killed the process.
func signaled(state *os.ProcessState) (int, bool) {
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return int(ws.Signal()), true
}

// peakRSS is the child's peak resident memory from the kernel's rusage.
func peakRSS(state *os.ProcessState) (uint64, bool) {
	ru, ok := state.SysUsage().(*syscall.Rusage)
	if !ok || ru.Maxrss <= 0 {
		return 0, false
	}
	if runtime.GOOS == "darwin" {
		return uint64(ru.Maxrss), true // bytes there
	}
	return uint64(ru.Maxrss) << 10, true // KiB on Linux and the BSDs
}
