package otelmem

import (
	"errors"
	"log/slog"
	"math"

	"go.opentelemetry.io/otel/metric"
)

// observeCgroupAndGC observes, after the process metrics of r, the other limits
// known beside the one that applies, the cgroup's memory and events, memory
// pressure and the GC's share of CPU. Whatever cannot be read is left out:
// a missing file is said once in a debug line, a failing one is returned.
func (m *Monitor) observeCgroupAndGC(o metric.Observer, r reading) error {
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

// note logs msg at debug level the first time key is noted.
func (m *Monitor) note(key, msg string) {
	if _, seen := m.notes.LoadOrStore(key, true); !seen {
		m.cfg.logger.Debug("otelmem: "+msg, slog.String("root", m.cfg.root))
	}
}
