package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/memwatch/memwatch/internal/quote"
)

// v1Unlimited is the smallest value cgroup v1 uses to mean "no limit" (the
// kernel reports LONG_MAX rounded down to a page, 9223372036854771712).
const v1Unlimited = 1 << 62

// Limits are the memory limits set on the process's cgroup or any of its
// ancestors, the tightest of each; 0 means none is set.
type Limits struct {
	Max  uint64 // memory.max (v1 memory.limit_in_bytes): beyond it, the OOM killer
	High uint64 // memory.high (v2 only): beyond it, reclaim and throttling
}

// Limits reads memory.max and memory.high (v1: memory.limit_in_bytes) of
// the cgroup and each ancestor up to the mount point, v2 first: on a hybrid
// host the unified hierarchy has no memory controller and the v1 one does.
func (g Group) Limits() (Limits, error) {
	var l Limits
	if g.v2.ok() {
		var err1, err2 error
		l.Max, err1 = g.walkMin(g.v2, "memory.max")
		l.High, err2 = g.walkMin(g.v2, "memory.high")
		if err := errors.Join(err1, err2); err != nil || l.Max > 0 || l.High > 0 {
			return l, err
		}
	}
	if g.v1.ok() {
		var err error
		l.Max, err = g.walkMin(g.v1, "memory.limit_in_bytes")
		return l, err
	}
	return l, nil
}

// walkMin reads file in d's cgroup and each parent up to the mount point
// and returns the smallest limit set, 0 when none is.
func (g Group) walkMin(d dir, file string) (uint64, error) {
	var min uint64
	for cur := d.leaf; ; cur = filepath.Dir(cur) {
		limit, err := g.readLimit(filepath.Join(cur, file))
		if err != nil {
			return 0, err
		}
		if limit > 0 && (min == 0 || limit < min) {
			min = limit
		}
		if cur == d.top || len(cur) <= len(d.top) {
			return min, nil
		}
	}
}

// readLimit parses memory.max, memory.high ("max" or bytes) or
// memory.limit_in_bytes; 0 means no limit. A missing file is no limit: the
// root cgroup has none.
func (g Group) readLimit(path string) (uint64, error) {
	b, err := g.readSmall(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	s := string(bytes.TrimSpace(b))
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup limit file %s: malformed value %s", path, quote.Short(s))
	}
	if v >= v1Unlimited {
		return 0, nil
	}
	return v, nil
}

// maxCount is the largest byte or event count a cgroup file may hold:
// what an int64 instrument can carry. The kernel's counters stay far
// below it; a larger value (2^64-1, say) is a broken or planted file, an
// error rather than a negative metric.
const maxCount = math.MaxInt64

// parseCount reads a counter or byte count of the file at path.
func parseCount(b []byte, path string) (uint64, error) {
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup file %s: malformed value %s", path, quote.Short(string(b)))
	}
	if n > maxCount {
		return 0, fmt.Errorf("cgroup file %s: value %d is beyond 2^63-1", path, n)
	}
	return n, nil
}

// Memory is what the cgroup's memory controller counts.
type Memory struct {
	// Usage is memory.current (v1 memory.usage_in_bytes): every page
	// charged to the cgroup, page cache included.
	Usage uint64
	// WorkingSet is Usage minus the inactive file cache (memory.stat's
	// inactive_file; v1 total_inactive_file), as the kubelet computes it
	// for eviction; 0 when memory.stat is missing.
	WorkingSet uint64
	// HasWorkingSet says memory.stat was read.
	HasWorkingSet bool
}

// Memory reads usage and working set. ok is false when the cgroup has no
// memory controller files.
func (g Group) Memory() (m Memory, ok bool, err error) {
	b, path, v1, ok, err := g.read("memory.current", "memory.usage_in_bytes")
	if err != nil || !ok {
		return Memory{}, false, err
	}
	if m.Usage, err = parseCount(bytes.TrimSpace(b), path); err != nil {
		return Memory{}, false, err
	}
	statName := "memory.stat"
	statPath := filepath.Join(g.v2.leaf, statName)
	if v1 {
		statPath = filepath.Join(g.v1.leaf, statName)
	}
	stat, err := g.readSmall(statPath)
	if errors.Is(err, fs.ErrNotExist) {
		return m, true, nil
	}
	if err != nil {
		return m, true, err
	}
	keys := []string{"inactive_file"}
	if v1 {
		keys = []string{"total_inactive_file", "inactive_file"} // hierarchical first
	}
	inactive, found, err := statValue(stat, statPath, keys)
	if err != nil || !found {
		return m, true, err
	}
	m.WorkingSet, m.HasWorkingSet = m.Usage-min(inactive, m.Usage), true
	return m, true, nil
}

// statValue returns the value of the first of keys in a flat-keyed file
// ("key value" lines, memory.stat and memory.events).
func statValue(data []byte, path string, keys []string) (uint64, bool, error) {
	kv, err := parseFlatKeyed(data, path)
	if err != nil {
		return 0, false, err
	}
	for _, k := range keys {
		if v, ok := kv[k]; ok {
			return v, true, nil
		}
	}
	return 0, false, nil
}

// parseFlatKeyed parses "key value" lines. A line with a value that is not
// an unsigned integer is an error naming the file and the line.
func parseFlatKeyed(data []byte, path string) (map[string]uint64, error) {
	kv := make(map[string]uint64)
	for line := range strings.SplitSeq(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			if strings.TrimSpace(line) != "" {
				return nil, fmt.Errorf("cgroup file %s: malformed line %s", path, quote.Short(line))
			}
			continue
		}
		n, err := parseCount([]byte(strings.TrimSpace(v)), path)
		if err != nil {
			return nil, err
		}
		kv[k] = n
	}
	return kv, nil
}

// The events memory.events counts. v1 has two of them: memory.failcnt
// (times usage hit the limit) stands for max, memory.oom_control's oom_kill
// for oom_kill.
var EventNames = []string{"low", "high", "max", "oom", "oom_kill"}

// Events are cumulative counts of memory.events, by EventNames.
type Events map[string]uint64

// Events reads memory.events (v1: memory.failcnt and memory.oom_control).
// ok is false when the cgroup has none of those files.
func (g Group) Events() (Events, bool, error) {
	if g.v2.ok() {
		p := filepath.Join(g.v2.leaf, "memory.events")
		b, err := g.readSmall(p)
		if err == nil {
			kv, err := parseFlatKeyed(b, p)
			if err != nil {
				return nil, false, err
			}
			ev := make(Events, len(EventNames))
			for _, n := range EventNames {
				ev[n] = kv[n]
			}
			return ev, true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, false, err
		}
	}
	if !g.v1.ok() {
		return nil, false, nil
	}
	ev := Events{}
	var errs []error
	p := filepath.Join(g.v1.leaf, "memory.failcnt")
	if b, err := g.readSmall(p); err == nil {
		n, err := parseCount(bytes.TrimSpace(b), p)
		if err != nil {
			errs = append(errs, err)
		} else {
			ev["max"] = n
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	p = filepath.Join(g.v1.leaf, "memory.oom_control")
	if b, err := g.readSmall(p); err == nil {
		n, found, err := statValue(b, p, []string{"oom_kill"})
		if err != nil {
			errs = append(errs, err)
		} else if found {
			ev["oom_kill"] = n
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return ev, len(ev) > 0, errors.Join(errs...)
}

// Pressure is memory pressure stall information (PSI): the share of time
// some or all tasks were stalled waiting for memory.
type Pressure struct {
	SomeTotal, FullTotal float64 // cumulative stall time, seconds
	SomeAvg10, FullAvg10 float64 // share of the last 10 s, 0 to 1
	HasFull              bool    // the file has a full line (not on every kernel's system file)
}

// Pressure reads the cgroup's memory.pressure, else the system's
// /proc/pressure/memory. ok is false when neither exists (no PSI); from
// says which was read.
func (g Group) Pressure() (p Pressure, from string, ok bool, err error) {
	candidates := []string{}
	if g.v2.ok() {
		candidates = append(candidates, filepath.Join(g.v2.leaf, "memory.pressure"))
	}
	candidates = append(candidates, filepath.Join(g.root, "proc", "pressure", "memory"))
	for _, path := range candidates {
		b, err := g.readSmall(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Pressure{}, path, false, err
		}
		p, err := parsePressure(b, path)
		return p, path, err == nil, err
	}
	return Pressure{}, "", false, nil
}

// parsePressure parses "some avg10=0.12 avg60=0.05 avg300=0.01 total=12345"
// and the same for "full"; total is in microseconds.
func parsePressure(data []byte, path string) (Pressure, error) {
	var p Pressure
	seenSome := false
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var avg10, total float64
		var haveAvg, haveTotal bool
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return Pressure{}, fmt.Errorf("pressure file %s: malformed field %s", path, quote.Short(f))
			}
			switch k {
			case "avg10":
				x, err := strconv.ParseFloat(v, 64)
				if err != nil || !(x >= 0 && x <= 100) { // NaN fails both
					return Pressure{}, fmt.Errorf("pressure file %s: malformed avg10 %s", path, quote.Short(v))
				}
				avg10, haveAvg = x/100, true
			case "total":
				x, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return Pressure{}, fmt.Errorf("pressure file %s: malformed total %s", path, quote.Short(v))
				}
				total, haveTotal = float64(x)/1e6, true
			}
		}
		if !haveAvg || !haveTotal {
			return Pressure{}, fmt.Errorf("pressure file %s: line %s lacks avg10 or total", path, quote.Short(line))
		}
		switch fields[0] {
		case "some":
			p.SomeAvg10, p.SomeTotal, seenSome = avg10, total, true
		case "full":
			p.FullAvg10, p.FullTotal, p.HasFull = avg10, total, true
		default:
			return Pressure{}, fmt.Errorf("pressure file %s: unknown line %s", path, quote.Short(line))
		}
	}
	if !seenSome {
		return Pressure{}, fmt.Errorf("pressure file %s: no some line", path)
	}
	return p, nil
}

// OOMKills returns the cgroup's oom_kill count and whether it could be
// read: what TrackCmd compares before and after a worker runs.
func (g Group) OOMKills() (uint64, bool) {
	ev, ok, err := g.Events()
	if err != nil || !ok {
		return 0, false
	}
	n, ok := ev["oom_kill"]
	return n, ok
}
