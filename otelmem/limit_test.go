package otelmem

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/fstree"

	"github.com/memwatch/memwatch/internal/testutil/otelerrors"
)

// fakeRoot builds a file tree that looks like / to the monitor: statm
// saying 25 MiB resident (6400 pages of 4 KiB; the test scales by the real
// page size), meminfo with 16 GiB of host memory, and the given files.
func fakeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	base := map[string]string{
		"proc/self/statm": statmFor(100*mib, 25*mib),
		"proc/meminfo":    "MemTotal:       16777216 kB\nMemFree:         8388608 kB\nMemAvailable:   8388608 kB\n",
	}
	for k, v := range files {
		base[k] = v
		if v == "" {
			delete(base, k) // "" removes a base file
		}
	}
	return fstree.Write(t, base)
}

func statmFor(virtual, rss int) string {
	page := os.Getpagesize()
	return strings.Join([]string{strconv.Itoa(virtual / page), strconv.Itoa(rss / page), "100 10 0 500 0\n"}, " ")
}

const (
	mountsV2     = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"
	mountsV1     = "31 23 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n36 31 0:33 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
	mountsHybrid = mountsV1 + "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
	hostTotal    = 16 << 30
)

func TestLimitAndUtilization(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		gomemlimit int64 // 0: unset
		wantLimit  uint64
		wantSource LimitSource
	}{
		{
			name: "cgroup v2 leaf limit",
			files: map[string]string{
				"proc/self/cgroup":                             "0::/kubepods/pod1/app\n",
				"proc/self/mountinfo":                          mountsV2,
				"sys/fs/cgroup/kubepods/pod1/app/memory.max":   "104857600\n",
				"sys/fs/cgroup/kubepods/pod1/memory.max":       "max\n",
				"sys/fs/cgroup/kubepods/memory.max":            "max\n",
				"sys/fs/cgroup/kubepods/pod1/app/cgroup.procs": "1\n",
			},
			wantLimit: 100 * mib, wantSource: LimitSourceCgroup,
		},
		{
			name: "cgroup v2 tighter parent wins",
			files: map[string]string{
				"proc/self/cgroup":                           "0::/kubepods/pod1/app\n",
				"proc/self/mountinfo":                        mountsV2,
				"sys/fs/cgroup/kubepods/pod1/app/memory.max": "max\n",
				"sys/fs/cgroup/kubepods/pod1/memory.max":     "52428800\n",
			},
			wantLimit: 50 * mib, wantSource: LimitSourceCgroup,
		},
		{
			name: "cgroup v2 namespace root (container)",
			files: map[string]string{
				"proc/self/cgroup":         "0::/\n",
				"proc/self/mountinfo":      mountsV2,
				"sys/fs/cgroup/memory.max": "209715200\n",
			},
			wantLimit: 200 * mib, wantSource: LimitSourceCgroup,
		},
		{
			name: "cgroup v1 limit",
			files: map[string]string{
				"proc/self/cgroup":    "4:memory:/docker/abc\n3:cpu:/docker/abc\n",
				"proc/self/mountinfo": mountsV1,
				"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "104857600\n",
				"sys/fs/cgroup/memory/docker/memory.limit_in_bytes":     "9223372036854771712\n",
			},
			wantLimit: 100 * mib, wantSource: LimitSourceCgroup,
		},
		{
			name: "cgroup v1 without namespace: host path, container mount",
			files: map[string]string{
				"proc/self/cgroup":                           "4:memory:/docker/abc\n",
				"proc/self/mountinfo":                        strings.ReplaceAll(mountsV1, "35 31 0:32 / ", "35 31 0:32 /docker/abc "),
				"sys/fs/cgroup/memory/memory.limit_in_bytes": "314572800\n",
			},
			wantLimit: 300 * mib, wantSource: LimitSourceCgroup,
		},
		{
			name: "hybrid: unified has no memory controller, v1 does",
			files: map[string]string{
				"proc/self/cgroup":                               "4:memory:/svc\n0::/svc\n",
				"proc/self/mountinfo":                            mountsHybrid,
				"sys/fs/cgroup/memory/svc/memory.limit_in_bytes": "157286400\n",
				"sys/fs/cgroup/unified/svc/cgroup.procs":         "1\n",
			},
			wantLimit: 150 * mib, wantSource: LimitSourceCgroup,
		},
		{
			name: "cgroup v1 unlimited falls back to host",
			files: map[string]string{
				"proc/self/cgroup":                           "4:memory:/\n",
				"proc/self/mountinfo":                        mountsV1,
				"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
			},
			wantLimit: hostTotal, wantSource: LimitSourceHost,
		},
		{
			name: "cgroup v2 max everywhere, GOMEMLIMIT set",
			files: map[string]string{
				"proc/self/cgroup":         "0::/\n",
				"proc/self/mountinfo":      mountsV2,
				"sys/fs/cgroup/memory.max": "max\n",
			},
			gomemlimit: 400 * mib,
			wantLimit:  400 * mib, wantSource: LimitSourceGOMEMLIMIT,
		},
		{
			name: "cgroup beats GOMEMLIMIT",
			files: map[string]string{
				"proc/self/cgroup":         "0::/\n",
				"proc/self/mountinfo":      mountsV2,
				"sys/fs/cgroup/memory.max": "104857600\n",
			},
			gomemlimit: 400 * mib,
			wantLimit:  100 * mib, wantSource: LimitSourceCgroup,
		},
		{
			// A host hierarchy mounted into the container and listed first
			// must not give the host's limit.
			name: "host cgroup2 mount listed first",
			files: map[string]string{
				"proc/self/cgroup":              "0::/\n",
				"proc/self/mountinfo":           "29 23 0:26 /.. /host/sys/fs/cgroup ro - cgroup2 cgroup2 rw\n" + mountsV2,
				"host/sys/fs/cgroup/memory.max": "8589934592\n",
				"sys/fs/cgroup/memory.max":      "209715200\n",
			},
			wantLimit: 200 * mib, wantSource: LimitSourceCgroup,
		},
		{
			name: "mount point with an escaped space",
			files: map[string]string{
				"proc/self/cgroup":       "0::/app\n",
				"proc/self/mountinfo":    `30 23 0:26 / /cg\040root rw - cgroup2 cgroup2 rw` + "\n",
				"cg root/app/memory.max": "157286400\n",
			},
			wantLimit: 150 * mib, wantSource: LimitSourceCgroup,
		},
		{
			name: "a mountinfo line over 64 KiB before the cgroup mount",
			files: map[string]string{
				"proc/self/cgroup":         "0::/\n",
				"proc/self/mountinfo":      "20 1 0:20 / / rw - overlay overlay rw,lowerdir=" + strings.Repeat("/l", 50000) + "\n" + mountsV2,
				"sys/fs/cgroup/memory.max": "104857600\n",
			},
			wantLimit: 100 * mib, wantSource: LimitSourceCgroup,
		},
		{
			name:      "no cgroup files at all: host",
			files:     map[string]string{},
			wantLimit: hostTotal, wantSource: LimitSourceHost,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.gomemlimit > 0 {
				prev := debug.SetMemoryLimit(tt.gomemlimit)
				t.Cleanup(func() { debug.SetMemoryLimit(prev) })
			} else {
				prev := debug.SetMemoryLimit(math.MaxInt64)
				t.Cleanup(func() { debug.SetMemoryLimit(prev) })
			}
			m, reader := startWithReader(t, WithoutRuntimeInstrumentation(), WithFSRoot(fakeRoot(t, tt.files)))
			s, err := m.Snapshot()
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			if s.Limit != tt.wantLimit || s.LimitSource != tt.wantSource {
				t.Errorf("limit = %d (%s), want %d (%s)", s.Limit, s.LimitSource, tt.wantLimit, tt.wantSource)
			}
			if s.RSS != 25*mib {
				t.Fatalf("RSS = %d, want the fake statm's %d", s.RSS, 25*mib)
			}
			want := float64(25*mib) / float64(tt.wantLimit)
			if math.Abs(s.Utilization-want) > 1e-12 {
				t.Errorf("utilization = %v, want %v", s.Utilization, want)
			}
			rm := collect(t, reader)
			if got := intValue(t, rm, metricLimit, string(attrLimitSource), string(tt.wantSource)); uint64(got) != tt.wantLimit {
				t.Errorf("%s{source=%s} = %d, want %d", metricLimit, tt.wantSource, got, tt.wantLimit)
			}
		})
	}
}

// TestLimitRefresh checks that a resized container is noticed after the
// refresh interval, and not read again before it.
func TestLimitRefresh(t *testing.T) {
	root := fakeRoot(t, map[string]string{
		"proc/self/cgroup":         "0::/\n",
		"proc/self/mountinfo":      mountsV2,
		"sys/fs/cgroup/memory.max": "104857600\n",
	})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m, _ := startWithReader(t, WithoutRuntimeInstrumentation(), WithFSRoot(root),
		WithLimitRefreshInterval(time.Minute), withClock(clock))
	if err := os.WriteFile(filepath.Join(root, "sys/fs/cgroup/memory.max"), []byte("209715200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	now = now.Add(59 * time.Second)
	if s, _ := m.Snapshot(); s.Limit != 100*mib {
		t.Errorf("limit before the refresh interval = %d, want the cached %d", s.Limit, 100*mib)
	}
	now = now.Add(time.Second)
	if s, _ := m.Snapshot(); s.Limit != 200*mib {
		t.Errorf("limit after the refresh interval = %d, want %d", s.Limit, 200*mib)
	}
}

// TestFailingSourcesDoNotHideOthers removes statm and corrupts the cgroup
// limit: the heap metrics must still be observed, the broken ones left out,
// and both errors reach otel.Handle.
func TestFailingSourcesDoNotHideOthers(t *testing.T) {
	rec := otelerrors.Record(t)
	root := fakeRoot(t, map[string]string{
		"proc/self/statm":          "",
		"proc/self/cgroup":         "0::/\n",
		"proc/self/mountinfo":      mountsV2,
		"sys/fs/cgroup/memory.max": "lots\n",
	})
	m, reader := startWithReader(t, WithoutRuntimeInstrumentation(), WithFSRoot(root))
	rm := collect(t, reader)
	for _, name := range []string{metricHeapLive, metricHeapObjects, metricGCCycles} {
		if _, ok := findMetric(rm, ScopeName, name); !ok {
			t.Errorf("%s missing although only /proc and cgroup failed", name)
		}
	}
	if m, ok := findMetric(rm, ScopeName, "process.memory.usage"); ok {
		t.Errorf("process.memory.usage observed without a statm file: %+v", m)
	}
	// The malformed cgroup value is reported and the host limit used.
	if got := intValue(t, rm, metricLimit, string(attrLimitSource), string(LimitSourceHost)); got != hostTotal {
		t.Errorf("limit = %d, want host %d", got, hostTotal)
	}
	joined := errors.Join(rec.All()...)
	if joined == nil {
		t.Fatal("no error reached otel.Handle")
	}
	for _, want := range []string{"statm", `malformed value "lots"`} {
		if !strings.Contains(joined.Error(), want) {
			t.Errorf("handled errors %q do not mention %q", joined, want)
		}
	}
	if _, err := m.Snapshot(); err == nil {
		t.Error("Snapshot hid the failing sources")
	}
	// The same failure is reported once, not on every collection.
	n := len(rec.All())
	collect(t, reader)
	collect(t, reader)
	if len(rec.All()) != n {
		t.Errorf("a repeated failure was handled again: %d errors, want %d", len(rec.All()), n)
	}
	_ = m.Shutdown(context.Background())
}
