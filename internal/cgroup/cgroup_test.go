package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/memwatch/memwatch/internal/testutil/fstree"
)

const (
	mountsV2     = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"
	mountsV1     = "31 23 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
	mountsHybrid = mountsV1 + "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
)

func find(t *testing.T, files map[string]string) Group {
	t.Helper()
	g, err := Find(fstree.Write(t, files))
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	return g
}

func v2(files map[string]string) map[string]string {
	files["proc/self/cgroup"] = "0::/kubepods/pod1/app\n"
	files["proc/self/mountinfo"] = mountsV2
	return files
}

func TestV2(t *testing.T) {
	const app = "sys/fs/cgroup/kubepods/pod1/app/"
	g := find(t, v2(map[string]string{
		app + "memory.max":                       "max\n",
		app + "memory.high":                      "94371840\n",
		"sys/fs/cgroup/kubepods/pod1/memory.max": "104857600\n",
		"sys/fs/cgroup/kubepods/memory.max":      "max\n",
		app + "memory.current":                   "73400320\n",
		app + "memory.stat":                      "anon 50331648\nfile 23068672\nactive_file 2097152\ninactive_file 20971520\n",
		app + "memory.events":                    "low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n",
		app + "memory.pressure":                  "some avg10=1.50 avg60=0.40 avg300=0.10 total=2500000\nfull avg10=0.25 avg60=0.00 avg300=0.00 total=500000\n",
	}))
	l, err := g.Limits()
	if err != nil || l.Max != 100<<20 || l.High != 90<<20 {
		t.Errorf("Limits = %+v, %v; want max 100 MiB from the parent, high 90 MiB", l, err)
	}
	m, ok, err := g.Memory()
	if err != nil || !ok || m.Usage != 70<<20 || m.WorkingSet != 50<<20 || !m.HasWorkingSet {
		t.Errorf("Memory = %+v, %v, %v; want usage 70 MiB, working set 50 MiB", m, ok, err)
	}
	ev, ok, err := g.Events()
	if err != nil || !ok || ev["high"] != 12 || ev["max"] != 3 || ev["oom_kill"] != 1 || len(ev) != len(EventNames) {
		t.Errorf("Events = %v, %v, %v", ev, ok, err)
	}
	p, from, ok, err := g.Pressure()
	if err != nil || !ok || !strings.HasSuffix(from, "app/memory.pressure") || p.SomeTotal != 2.5 || p.FullTotal != 0.5 || p.SomeAvg10 != 0.015 || p.FullAvg10 != 0.0025 {
		t.Errorf("Pressure = %+v from %s, %v, %v", p, from, ok, err)
	}
}

func TestV1(t *testing.T) {
	const d = "sys/fs/cgroup/memory/docker/abc/"
	g := find(t, map[string]string{
		"proc/self/cgroup":                                  "4:memory:/docker/abc\n3:cpu:/docker/abc\n",
		"proc/self/mountinfo":                               mountsV1,
		d + "memory.limit_in_bytes":                         "104857600\n",
		"sys/fs/cgroup/memory/docker/memory.limit_in_bytes": "9223372036854771712\n",
		d + "memory.usage_in_bytes":                         "62914560\n",
		d + "memory.stat":                                   "cache 20971520\ninactive_file 1048576\ntotal_inactive_file 10485760\n",
		d + "memory.failcnt":                                "7\n",
		d + "memory.oom_control":                            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
		"proc/pressure/memory":                              "some avg10=0.00 avg60=0.00 avg300=0.00 total=10\n",
	})
	l, err := g.Limits()
	if err != nil || l.Max != 100<<20 || l.High != 0 {
		t.Errorf("Limits = %+v, %v", l, err)
	}
	m, ok, err := g.Memory()
	if err != nil || !ok || m.Usage != 60<<20 || m.WorkingSet != 50<<20 {
		t.Errorf("Memory = %+v, %v, %v; want usage 60 MiB, working set 50 MiB (total_inactive_file)", m, ok, err)
	}
	ev, ok, err := g.Events()
	if err != nil || !ok || ev["max"] != 7 || ev["oom_kill"] != 2 {
		t.Errorf("Events = %v, %v, %v; want max 7 (failcnt), oom_kill 2", ev, ok, err)
	}
	p, from, ok, err := g.Pressure()
	if err != nil || !ok || !strings.HasSuffix(from, "proc/pressure/memory") || p.SomeTotal != 1e-5 || p.HasFull {
		t.Errorf("Pressure = %+v from %s, %v, %v; want the system file's some line", p, from, ok, err)
	}
	if n, ok := g.OOMKills(); !ok || n != 2 {
		t.Errorf("OOMKills = %d, %v", n, ok)
	}
}

// TestHybrid: the unified hierarchy exists but has no memory controller;
// the v1 memory hierarchy answers.
func TestHybrid(t *testing.T) {
	g := find(t, map[string]string{
		"proc/self/cgroup":                               "4:memory:/svc\n0::/svc\n",
		"proc/self/mountinfo":                            mountsHybrid,
		"sys/fs/cgroup/memory/svc/memory.limit_in_bytes": "157286400\n",
		"sys/fs/cgroup/memory/svc/memory.usage_in_bytes": "1048576\n",
		"sys/fs/cgroup/unified/svc/cgroup.procs":         "1\n",
		"sys/fs/cgroup/unified/svc/memory.pressure":      "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
	})
	if l, err := g.Limits(); err != nil || l.Max != 150<<20 {
		t.Errorf("Limits = %+v, %v", l, err)
	}
	if m, ok, err := g.Memory(); err != nil || !ok || m.Usage != 1<<20 || m.HasWorkingSet {
		t.Errorf("Memory = %+v, %v, %v; want usage without a working set (no memory.stat)", m, ok, err)
	}
	if _, from, ok, _ := g.Pressure(); !ok || !strings.Contains(from, "unified") {
		t.Errorf("pressure from %q, want the unified cgroup's file", from)
	}
}

// TestAbsentIsNotAnError: no cgroup at all, or a cgroup without memory
// files, reads as "not available" with no error.
func TestAbsentIsNotAnError(t *testing.T) {
	none, err := Find(fstree.Write(t, map[string]string{"proc/pressure/memory": "some avg10=1.00 avg60=0.00 avg300=0.00 total=7\n"}))
	if !errors.Is(err, ErrNone) {
		t.Errorf("no /proc/self/cgroup: %v, want ErrNone", err)
	}
	// Outside a cgroup the group still reads the system's pressure.
	if p, _, ok, err := none.Pressure(); !ok || err != nil || p.SomeTotal != 7e-6 {
		t.Errorf("pressure outside a cgroup: %+v, %v, %v", p, ok, err)
	}
	if _, ok, err := none.Memory(); ok || err != nil {
		t.Errorf("memory outside a cgroup: ok=%v err=%v", ok, err)
	}
	g := find(t, v2(map[string]string{"sys/fs/cgroup/kubepods/pod1/app/cgroup.procs": "1\n"}))
	if l, err := g.Limits(); err != nil || l != (Limits{}) {
		t.Errorf("Limits = %+v, %v", l, err)
	}
	if _, ok, err := g.Memory(); ok || err != nil {
		t.Errorf("Memory ok=%v err=%v, want not available", ok, err)
	}
	if _, ok, err := g.Events(); ok || err != nil {
		t.Errorf("Events ok=%v err=%v", ok, err)
	}
	if _, _, ok, err := g.Pressure(); ok || err != nil {
		t.Errorf("Pressure ok=%v err=%v", ok, err)
	}
}

// TestGarbageIsAnErrorNamingTheFile: a file that does not parse is an
// error that names the file and the value, not a silent zero.
func TestGarbageIsAnErrorNamingTheFile(t *testing.T) {
	const app = "sys/fs/cgroup/kubepods/pod1/app/"
	for _, tt := range []struct{ name, content string }{
		{"memory.max", "lots\n"},
		{"memory.max", strings.Repeat("x", 1<<20-1) + "\n"},
		{"memory.current", "-5\n"},
		{"memory.current", "18446744073709551615\n"}, // 2^64-1: no int64 holds it
		{"memory.stat", "inactive_file many\n"},
		{"memory.events", "oom_kill\n"},
		{"memory.events", "oom_kill 9223372036854775808\n"}, // 2^63
		{"memory.pressure", "some avg10=abc total=1\n"},
		{"memory.pressure", "some avg10=NaN avg60=0 avg300=0 total=1\n"},
	} {
		name, content := tt.name, tt.content
		files := v2(map[string]string{app + "memory.current": "100\n"})
		files[app+name] = content
		g := find(t, files)
		var err error
		switch name {
		case "memory.max":
			_, err = g.Limits()
		case "memory.current", "memory.stat":
			_, _, err = g.Memory()
		case "memory.events":
			_, _, err = g.Events()
		case "memory.pressure":
			_, _, _, err = g.Pressure()
		}
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s = %.40q: error %.300v, want one naming the file", name, content, err)
		} else if len(err.Error()) > 400 {
			t.Errorf("%s = %.40q: a %d-byte error, want a short prefix of the value", name, content, len(err.Error()))
		}
	}
}

// TestLongMountinfoLineIsSkipped: a mount line over 4 MiB (a host with a
// monstrous overlay) is skipped, and the cgroup mount after it found.
func TestLongMountinfoLineIsSkipped(t *testing.T) {
	long := "40 23 0:50 / /var/lib/x rw - overlay overlay rw,lowerdir=" + strings.Repeat("/l", 3<<20) + "\n"
	g := find(t, map[string]string{
		"proc/self/cgroup":                 "0::/app\n",
		"proc/self/mountinfo":              long + mountsV2,
		"sys/fs/cgroup/app/memory.current": "100\n",
	})
	if m, ok, err := g.Memory(); err != nil || !ok || m.Usage != 100 {
		t.Errorf("Memory() = %+v, %v, %v; want the cgroup found past the long line", m, ok, err)
	}
}

// TestLimitChange: a limit rewritten at run time (in-place resize) is what
// the next read sees.
func TestLimitChange(t *testing.T) {
	root := fstree.Write(t, v2(map[string]string{"sys/fs/cgroup/kubepods/pod1/app/memory.max": "104857600\n"}))
	g, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := g.Limits(); l.Max != 100<<20 {
		t.Fatalf("before: %+v", l)
	}
	if err := os.WriteFile(filepath.Join(root, "sys/fs/cgroup/kubepods/pod1/app/memory.max"), []byte("209715200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if l, _ := g.Limits(); l.Max != 200<<20 {
		t.Errorf("after the resize: %+v, want 200 MiB", l)
	}
}

// TestOwnCgroup reads this machine's own cgroup, where one is readable:
// usage and working set agree with the kernel's files read directly, and
// the working set holds at least what this process has resident.
func TestOwnCgroup(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("cgroups are Linux's")
	}
	g, err := Find("/")
	if errors.Is(err, ErrNone) {
		t.Skip("no cgroup")
	}
	if err != nil {
		t.Fatal(err)
	}
	m, ok, err := g.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skip("no memory controller files readable here")
	}
	d, usageFile := g.v2, "memory.current"
	if _, err := os.Stat(filepath.Join(d.leaf, usageFile)); err != nil {
		d, usageFile = g.v1, "memory.usage_in_bytes"
	}
	kernel := readUint(t, filepath.Join(d.leaf, usageFile))
	if diff := int64(kernel) - int64(m.Usage); diff > 64<<20 || diff < -64<<20 {
		t.Errorf("usage %d, the kernel's file says %d", m.Usage, kernel)
	}
	rss := ownRSS(t)
	if m.HasWorkingSet && (m.WorkingSet > m.Usage || m.WorkingSet+64<<20 < rss) {
		t.Errorf("working set %d: want at most usage %d and at least this process's RSS %d", m.WorkingSet, m.Usage, rss)
	}
	t.Logf("%s: usage %d, working set %d, own RSS %d", d.leaf, m.Usage, m.WorkingSet, rss)
}

func readUint(t *testing.T, path string) uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func ownRSS(t *testing.T) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// FuzzFiles: whatever the memory files hold, reading never panics, and a
// value is returned only when its file parsed.
func FuzzFiles(f *testing.F) {
	f.Add("104857600\n", "73400320\n", "inactive_file 1\n", "oom_kill 1\n", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
	f.Add("max", "x", "inactive_file\n", "high -1", "full avg10=101 total=1")
	f.Fuzz(func(t *testing.T, max, current, stat, events, pressure string) {
		const app = "sys/fs/cgroup/kubepods/pod1/app/"
		root := fstree.Write(t, v2(map[string]string{
			app + "memory.max": max, app + "memory.current": current, app + "memory.stat": stat,
			app + "memory.events": events, app + "memory.pressure": pressure,
		}))
		g, err := Find(root)
		if err != nil {
			return
		}
		if l, err := g.Limits(); err == nil && l.Max > 0 {
			if want, perr := strconv.ParseUint(strings.TrimSpace(max), 10, 64); perr != nil || want != l.Max {
				t.Errorf("max %d from %q", l.Max, max)
			}
		}
		if m, ok, err := g.Memory(); err == nil && ok {
			if want, perr := strconv.ParseUint(strings.TrimSpace(current), 10, 64); perr != nil || want != m.Usage || m.WorkingSet > m.Usage {
				t.Errorf("memory %+v from %q", m, current)
			}
		}
		_, _, _ = g.Events()
		if p, _, ok, err := g.Pressure(); err == nil && ok && (p.SomeAvg10 < 0 || p.SomeAvg10 > 1 || p.SomeTotal < 0) {
			t.Errorf("pressure %+v from %q", p, pressure)
		}
	})
}

// FuzzFind: whatever /proc/self/cgroup, mountinfo and the limit file hold,
// Find and Limits never panic, and a limit comes only from a limit file that
// parses to it.
func FuzzFind(f *testing.F) {
	f.Add("0::/app\n", mountsV2, "104857600\n")
	f.Add("4:memory:/docker/abc\n", mountsV1, "max")
	f.Add("", `30 23 0:26 / /a\04 - cgroup2`, "-1")
	f.Fuzz(func(t *testing.T, procCgroup, mountinfo, limit string) {
		root := fstree.Write(t, map[string]string{
			"proc/self/cgroup": procCgroup, "proc/self/mountinfo": mountinfo,
			"sys/fs/cgroup/memory.max": limit, "sys/fs/cgroup/app/memory.max": limit,
		})
		g, err := Find(root)
		if err != nil {
			return
		}
		l, err := g.Limits()
		got := l.Max
		if err != nil || got == 0 {
			return
		}
		want, perr := strconv.ParseUint(strings.TrimSpace(limit), 10, 64)
		if perr != nil || got != want {
			t.Errorf("limit %d from a limit file reading %q", got, limit)
		}
	})
}
