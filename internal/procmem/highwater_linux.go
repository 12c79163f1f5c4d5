//go:build linux

package procmem

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// HighWater is process pid's peak resident set size since it last
// exec'd: the VmHWM line of /proc/PID/status. A process that has exited
// has none (a zombie's status has no Vm lines): an error.
func HighWater(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
		if err != nil || kb > 1<<54 {
			return 0, fmt.Errorf("procmem: /proc/%d/status: malformed VmHWM line", pid)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("procmem: /proc/%d/status has no VmHWM (exited)", pid)
}
