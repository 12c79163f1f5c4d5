package otelmem

import (
	"bytes"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/otelerrors"
)

// containerFiles is a pod's cgroup v2: limit 100 MiB (memory.max on the
// pod), memory.high 90 MiB, usage 70 MiB of which 20 MiB inactive file
// cache, an OOM kill, and memory pressure.
var containerFiles = map[string]string{
	"proc/self/cgroup":                      "0::/pod/app\n",
	"proc/self/mountinfo":                   mountsV2,
	"sys/fs/cgroup/pod/memory.max":          "104857600\n",
	"sys/fs/cgroup/pod/app/memory.max":      "max\n",
	"sys/fs/cgroup/pod/app/memory.high":     "94371840\n",
	"sys/fs/cgroup/pod/app/memory.current":  "73400320\n",
	"sys/fs/cgroup/pod/app/memory.stat":     "anon 50331648\ninactive_file 20971520\n",
	"sys/fs/cgroup/pod/app/memory.events":   "low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\n",
	"sys/fs/cgroup/pod/app/memory.pressure": "some avg10=40.00 avg60=10.00 avg300=2.00 total=2500000\nfull avg10=5.00 avg60=1.00 avg300=0.00 total=500000\n",
	"sys/fs/cgroup/pod/app/cgroup.procs":    "1\n",
}

// TestContainerMetrics: the cgroup's usage, working set (usage minus
// inactive file cache), its share of the limit, the events, memory.high
// beside memory.max, and PSI, as the files state them.
func TestContainerMetrics(t *testing.T) {
	_, reader := startWithReader(t, WithoutRuntimeInstrumentation(), WithFSRoot(fakeRoot(t, containerFiles)))
	rm := collect(t, reader)
	if got := intValue(t, rm, metricCgroupUsage, "", ""); got != 70*mib {
		t.Errorf("usage %d, want 70 MiB", got)
	}
	if got := intValue(t, rm, metricCgroupWorkingSet, "", ""); got != 50*mib {
		t.Errorf("working set %d, want 50 MiB", got)
	}
	if got := floatValue(t, rm, metricCgroupUtilization, string(attrLimitSource), string(LimitSourceCgroup)); got != 0.5 {
		t.Errorf("working set utilization %v, want 0.5 of the 100 MiB limit", got)
	}
	if got := intValue(t, rm, metricLimit, string(attrLimitSource), string(LimitSourceCgroup)); got != 100*mib {
		t.Errorf("limit %d, want memory.max 100 MiB", got)
	}
	if got := intValue(t, rm, metricLimit, string(attrLimitSource), string(LimitSourceCgroupHigh)); got != 90*mib {
		t.Errorf("memory.high %d, want 90 MiB", got)
	}
	for ev, want := range map[string]int64{"low": 0, "high": 12, "max": 3, "oom": 1, "oom_kill": 1} {
		if got := intValue(t, rm, metricCgroupEvents, string(attrCgroupEvent), ev); got != want {
			t.Errorf("event %s = %d, want %d", ev, got, want)
		}
	}
	for tasks, want := range map[string][2]float64{"some": {2.5, 0.4}, "full": {0.5, 0.05}} {
		if got := floatValue(t, rm, metricPressureStall, string(attrPressureTasks), tasks); got != want[0] {
			t.Errorf("stall time %s = %v s, want %v", tasks, got, want[0])
		}
		if got := floatValue(t, rm, metricPressureAvg10, string(attrPressureTasks), tasks); math.Abs(got-want[1]) > 1e-9 {
			t.Errorf("avg10 %s = %v, want %v", tasks, got, want[1])
		}
	}
	if got := floatValue(t, rm, metricGCCPU, "", ""); got < 0 || got > 1 {
		t.Errorf("GC CPU share %v, want a fraction", got)
	}
}

// TestContainerFilesAbsent: outside a cgroup and without PSI the new
// instruments observe nothing, no error is handled, and a debug line says
// why, once.
func TestContainerFilesAbsent(t *testing.T) {
	rec := otelerrors.Record(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, reader := startWithReader(t, WithoutRuntimeInstrumentation(), WithFSRoot(fakeRoot(t, nil)), WithLogger(logger))
	rm := collect(t, reader)
	collect(t, reader)
	for _, name := range []string{metricCgroupUsage, metricCgroupWorkingSet, metricCgroupUtilization, metricCgroupEvents, metricPressureStall, metricPressureAvg10} {
		if m, ok := findMetric(rm, ScopeName, name); ok && shapeOf(m).Points > 0 {
			t.Errorf("%s observed without its files: %+v", name, m)
		}
	}
	if errs := rec.All(); len(errs) != 0 {
		t.Errorf("absent files handled as errors: %v", errs)
	}
	for _, want := range []string{"not in a readable cgroup", "no memory pressure file"} {
		if n := strings.Count(logs.String(), want); n != 1 {
			t.Errorf("debug line %q logged %d times, want once:\n%s", want, n, logs.String())
		}
	}
}

// TestMemoryLimitFromCgroup: GOMEMLIMIT follows ratio × the cgroup limit
// at Start and after a resize, shows as the gomemlimit limit, goes back to
// what it was before Start when the cgroup limit is removed (not when the
// limit cannot be read), and is left alone when GOMEMLIMIT is set in the
// environment.
func TestMemoryLimitFromCgroup(t *testing.T) {
	prev := debug.SetMemoryLimit(3 << 30)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	root := fakeRoot(t, containerFiles)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m, reader := startWithReader(t, WithoutRuntimeInstrumentation(), WithFSRoot(root),
		WithMemoryLimitFromCgroup(0.9), withClock(clock))
	if got := debug.SetMemoryLimit(-1); got != int64(0.9*100*mib) {
		t.Errorf("GOMEMLIMIT %d after Start, want 90%% of 100 MiB", got)
	}
	rm := collect(t, reader)
	if got := intValue(t, rm, metricLimit, string(attrLimitSource), string(LimitSourceGOMEMLIMIT)); got != int64(0.9*100*mib) {
		t.Errorf("applied limit shown as %d", got)
	}
	if err := os.WriteFile(filepath.Join(root, "sys/fs/cgroup/pod/memory.max"), []byte("209715200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	now = now.Add(DefaultLimitRefreshInterval)
	_, _ = m.Snapshot()
	if got := debug.SetMemoryLimit(-1); got != int64(0.9*200*mib) {
		t.Errorf("GOMEMLIMIT %d after the resize, want 90%% of 200 MiB", got)
	}
	for _, c := range []struct {
		max  string
		want int64
	}{
		{"not a number\n", int64(0.9 * 200 * mib)}, // unreadable: keep
		{"max\n", 3 << 30},                         // removed: give back
		{"104857600\n", int64(0.9 * 100 * mib)},    // back again
	} {
		if err := os.WriteFile(filepath.Join(root, "sys/fs/cgroup/pod/memory.max"), []byte(c.max), 0o644); err != nil {
			t.Fatal(err)
		}
		now = now.Add(DefaultLimitRefreshInterval)
		_, _ = m.Snapshot()
		if got := debug.SetMemoryLimit(-1); got != c.want {
			t.Errorf("memory.max %q: GOMEMLIMIT %d, want %d", c.max, got, c.want)
		}
	}

	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "1GiB")
	var logs bytes.Buffer
	_, _ = startWithReader(t, WithoutRuntimeInstrumentation(), WithFSRoot(root),
		WithMemoryLimitFromCgroup(0.9), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT %d changed although the environment sets it", got)
	}
	if !strings.Contains(logs.String(), "GOMEMLIMIT is set in the environment") {
		t.Errorf("no line says why:\n%s", logs.String())
	}

	for _, r := range []float64{0, -0.5, 1.5, math.NaN()} {
		if _, err := Start(WithMemoryLimitFromCgroup(r)); err == nil || !strings.Contains(err.Error(), "WithMemoryLimitFromCgroup") {
			t.Errorf("ratio %v: error %v", r, err)
		}
	}
}
