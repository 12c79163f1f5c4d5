package otelmem

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"go.opentelemetry.io/otel/metric"

	"github.com/memwatch/memwatch/internal/memread"
)

// observeMore observes, after the process metrics of r, the other limits
// known beside the one that applies, the cgroup's memory and events, memory
// pressure and the GC's share of CPU. Whatever cannot be read is left out:
// a missing file is said once in a debug line, a failing one is returned.
func (m *Monitor) observeMore(o metric.Observer, r reading) error {
	var errs []error
	in := &m.inst
	s, l, rt := r.Snapshot, r.limits, r.rt

	if l.cgroupHigh > 0 {
		o.ObserveInt64(in.limit, int64(l.cgroupHigh), in.bySource[LimitSourceCgroupHigh])
	}
	if g := rt.GOMEMLIMIT; g > 0 && g < math.MaxInt64 && s.LimitSource != LimitSourceGOMEMLIMIT {
		o.ObserveInt64(in.limit, int64(g), in.bySource[LimitSourceGOMEMLIMIT])
	}

	group := l.group
	if !l.inCgroup {
		m.note("cgroup", "not in a readable cgroup: the cgroup memory metrics observe nothing")
	} else {
		mem, ok, err := group.Memory()
		errs = append(errs, err)
		switch {
		case ok:
			o.ObserveInt64(in.cgroupUsage, int64(mem.Usage))
			if mem.HasWorkingSet {
				o.ObserveInt64(in.cgroupWorkingSet, int64(mem.WorkingSet))
				if s.Limit > 0 {
					o.ObserveFloat64(in.cgroupUtilization, float64(mem.WorkingSet)/float64(s.Limit), in.bySource[s.LimitSource])
				}
			}
		case err == nil:
			m.note("cgroup memory", "the cgroup has no memory controller files (memory.current, memory.usage_in_bytes)")
		}
		ev, ok, err := group.Events()
		errs = append(errs, err)
		if ok {
			for name, n := range ev {
				if opt, known := in.byEvent[name]; known {
					o.ObserveInt64(in.cgroupEvents, int64(n), opt)
				}
			}
		} else if err == nil {
			m.note("cgroup events", "the cgroup has no memory.events (v1: memory.failcnt, memory.oom_control)")
		}
	}
	p, from, ok, err := group.Pressure()
	errs = append(errs, err)
	if ok {
		o.ObserveFloat64(in.pressureStall, p.SomeTotal, in.some)
		o.ObserveFloat64(in.pressureAvg10, p.SomeAvg10, in.some)
		if p.HasFull {
			o.ObserveFloat64(in.pressureStall, p.FullTotal, in.full)
			o.ObserveFloat64(in.pressureAvg10, p.FullAvg10, in.full)
		}
		m.note("pressure from", "memory pressure read from "+from)
	} else if err == nil {
		m.note("pressure", "no memory pressure file (PSI: the cgroup's memory.pressure or /proc/pressure/memory): the pressure metrics observe nothing")
	}

	if share, ok := m.gcShare(rt); ok {
		o.ObserveFloat64(in.gcCPU, share)
	}
	return errors.Join(errs...)
}

// gcShare is the GC's share of the CPU time available since the previous
// collection (since the process started, at the first). The runtime adds
// to its CPU estimates only when a GC ends, so between two collections
// with no GC in between nothing has moved: the share of the last span the
// runtime measured is reported again rather than nothing.
func (m *Monitor) gcShare(rt memread.Values) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dGC, dTotal := rt.GCCPU-m.prevGCCPU, rt.TotalCPU-m.prevTotalCPU
	if dTotal > 0 && dGC >= 0 {
		m.prevGCCPU, m.prevTotalCPU = rt.GCCPU, rt.TotalCPU
		m.gcShareLast, m.gcShareKnown = min(dGC/dTotal, 1), true
	}
	return m.gcShareLast, m.gcShareKnown
}

// note logs msg at debug level the first time key is noted.
func (m *Monitor) note(key, msg string) {
	if _, seen := m.notes.LoadOrStore(key, true); !seen {
		m.cfg.logger.Debug("otelmem: "+msg, slog.String("root", m.cfg.root))
	}
}

// applyCgroupLimit sets GOMEMLIMIT to the ratio of the cgroup's limit
// (WithMemoryLimitFromCgroup) when that limit is new, and gives back the
// limit it replaced when the cgroup's limit is removed: a soft limit
// left at 90% of a limit that no longer exists makes the GC work for
// nothing, and would be reported as the limit. A failed read is not a
// removal. It runs under m.mu.
func (m *Monitor) applyCgroupLimit() {
	if m.cfg.limitRatio == 0 || m.limits.cgroup == m.appliedFor {
		return
	}
	if m.limits.cgroup == 0 {
		if !m.limits.limitRead {
			return
		}
		m.appliedFor = 0
		if m.applied {
			m.applied = false
			set := debug.SetMemoryLimit(m.replaced)
			m.cfg.logger.Info("otelmem: the cgroup memory limit was removed; GOMEMLIMIT restored to its value before WithMemoryLimitFromCgroup",
				slog.Int64("gomemlimit_bytes", m.replaced), slog.Int64("previous_bytes", set))
		}
		return
	}
	m.appliedFor = m.limits.cgroup
	if v, set := os.LookupEnv("GOMEMLIMIT"); set {
		m.cfg.logger.Info("otelmem: GOMEMLIMIT is set in the environment; WithMemoryLimitFromCgroup leaves it",
			slog.String("GOMEMLIMIT", v), slog.Uint64("cgroup_limit_bytes", m.limits.cgroup))
		return
	}
	limit := int64(m.cfg.limitRatio * float64(m.limits.cgroup))
	prev := debug.SetMemoryLimit(limit)
	if !m.applied {
		m.applied, m.replaced = true, prev
	}
	m.cfg.logger.Info(fmt.Sprintf("otelmem: GOMEMLIMIT set to %.0f%% of the cgroup memory limit", 100*m.cfg.limitRatio),
		slog.Int64("gomemlimit_bytes", limit), slog.Int64("previous_bytes", prev), slog.Uint64("cgroup_limit_bytes", m.limits.cgroup))
}
