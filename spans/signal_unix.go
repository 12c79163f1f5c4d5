//go:build unix

package spans

import (
	"os"
	"syscall"
)

// exitSignal names the signal that killed the child, if one did.
func exitSignal(state *os.ProcessState) (string, bool) {
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return "", false
	}
	return ws.Signal().String(), true
}

// sigkilled reports whether the process was killed by SIGKILL, the OOM
// killer's signal.
func sigkilled(state *os.ProcessState) bool {
	if state == nil {
		return false
	}
	ws, ok := state.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
