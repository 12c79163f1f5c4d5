package otelmem

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
)

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
