package otelmem

import (
	"errors"
	"fmt"
	"math"

	"github.com/memwatch/memwatch/internal/cgroup"
)

// LimitSource says where the memory limit that applies to the process came
// from.
type LimitSource string

// The limit sources, in the order they are tried.
const (
	// LimitSourceCgroup is the memory limit of the process's cgroup (v2
	// memory.max or v1 memory.limit_in_bytes, the tightest along its path):
	// the container or systemd unit limit the kernel enforces.
	LimitSourceCgroup LimitSource = "cgroup"
	// LimitSourceGOMEMLIMIT is the Go runtime's soft memory limit, set by
	// the GOMEMLIMIT environment variable or debug.SetMemoryLimit.
	LimitSourceGOMEMLIMIT LimitSource = "gomemlimit"
	// LimitSourceCgroupHigh is the cgroup's memory.high (v2): where the
	// kernel starts reclaiming and throttling, below memory.max. It is
	// reported beside the limit that applies, never as it.
	LimitSourceCgroupHigh LimitSource = "cgroup_high"
	// LimitSourceHost is the host's physical memory.
	LimitSourceHost LimitSource = "host"
	// LimitSourceUnknown means no limit could be read.
	LimitSourceUnknown LimitSource = "unknown"
)

// fileLimits are the limits that come from files and change rarely: they are
// refreshed every limitRefreshInterval, not on every read.
type fileLimits struct {
	cgroup     uint64       // memory.max (v1 limit_in_bytes), 0 when none applies
	cgroupHigh uint64       // memory.high, 0 when none applies
	host       uint64       // 0 when unknown
	group      cgroup.Group // outside a cgroup: only its Pressure reads anything
	inCgroup   bool         // a cgroup was found
	limitRead  bool         // its limits were read: cgroup 0 means it has none
}

// readFileLimits finds the process's cgroup and its limits, and the host
// memory, under root. Not being in a cgroup is not an error; anything that
// failed is returned joined with what succeeded.
func readFileLimits(root string) (fileLimits, error) {
	var (
		l    fileLimits
		errs []error
	)
	g, err := cgroup.Find(root)
	l.group = g
	switch {
	case err == nil:
		l.inCgroup = true
		lim, err := g.Limits()
		if err != nil {
			errs = append(errs, fmt.Errorf("otelmem: cgroup memory limit: %w", err))
		}
		l.cgroup, l.cgroupHigh, l.limitRead = lim.Max, lim.High, err == nil
	case !errors.Is(err, cgroup.ErrNone):
		errs = append(errs, fmt.Errorf("otelmem: cgroup: %w", err))
	}
	if host, err := hostMemory(root); err != nil {
		errs = append(errs, fmt.Errorf("otelmem: host memory: %w", err))
	} else {
		l.host = host
	}
	return l, errors.Join(errs...)
}

// effectiveLimit picks the limit that applies: the cgroup's memory.max, else GOMEMLIMIT (as
// the runtime reports it, math.MaxInt64 when unset), else host memory.
func effectiveLimit(l fileLimits, gomemlimit uint64) (uint64, LimitSource) {
	switch {
	case l.cgroup > 0:
		return l.cgroup, LimitSourceCgroup
	case gomemlimit > 0 && gomemlimit < math.MaxInt64:
		return gomemlimit, LimitSourceGOMEMLIMIT
	case l.host > 0:
		return l.host, LimitSourceHost
	default:
		return 0, LimitSourceUnknown
	}
}
