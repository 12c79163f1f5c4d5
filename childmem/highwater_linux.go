//go:build linux

package childmem

import (
	"fmt"
	"os"
	"strconv"

	"github.com/memwatch/memwatch/internal/procmem"
)

// HighWater is process pid's peak resident set size since it last
// exec'd: the VmHWM line of /proc/PID/status. A process that has exited
// has none (a zombie's status has no Vm lines): an error.
func HighWater(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	n, found, err := procmem.KiBField(b, "VmHWM")
	switch {
	case err != nil:
		return 0, fmt.Errorf("childmem: /proc/%d/status: malformed VmHWM line", pid)
	case !found:
		return 0, fmt.Errorf("childmem: /proc/%d/status has no VmHWM (exited)", pid)
	}
	return n, nil
}
