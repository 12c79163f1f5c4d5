//go:build unix

package childmem

import (
	"os"
	"syscall"
)

// Signal is the signal that killed the process, if one did.
func Signal(state *os.ProcessState) (syscall.Signal, bool) {
	if state == nil {
		return 0, false
	}
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}
