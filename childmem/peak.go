package childmem

import "os"

// Where a child's peak RSS came from, as Peak reports it.
const (
	// FromRusage: the kernel's rusage at exit, used only when it is
	// above this process's own peak (see Peak).
	FromRusage = "rusage"
	// FromHighWater: the child's high-water mark (Linux VmHWM) last
	// read while it ran.
	FromHighWater = "high_water_mark"
)

// Peak is an exited child's own peak resident memory and where it
// came from; ok is false when neither source knows it.
//
// The kernel's rusage of a child also counts the memory it shared with
// its parent before exec: Go starts children with CLONE_VM, so on Linux a
// child's maximum is at least its parent's high-water mark (other systems
// count the pages a fork shares). A rusage maximum above this process's
// own peak is then surely the child's; one at or below it may be ours and
// is not used. sampledHighWater (0 when none was read) is the child's own
// high-water mark as last sampled while it ran, which may miss growth
// after the last reading.
func Peak(state *os.ProcessState, sampledHighWater uint64) (peak uint64, source string, ok bool) {
	if r, ok := rusageMaxRSS(state); ok {
		if self, ok := selfMaxRSS(); ok && r > self && r >= sampledHighWater {
			return r, FromRusage, true
		}
	}
	if sampledHighWater > 0 {
		return sampledHighWater, FromHighWater, true
	}
	return 0, "", false
}
