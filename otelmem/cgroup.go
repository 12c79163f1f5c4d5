package otelmem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// errNoCgroupLimit means no cgroup memory limit applies: no cgroup file
// system, no memory controller, or every level unlimited. It is not a
// failure; the limit then comes from GOMEMLIMIT or the host.
var errNoCgroupLimit = errors.New("no cgroup memory limit")

// cgroupV1Unlimited is the smallest value cgroup v1 uses to mean "no limit"
// (the kernel reports LONG_MAX rounded down to a page, 9223372036854771712).
const cgroupV1Unlimited = 1 << 62

// cgroupMemoryLimit returns the tightest memory limit set on this process's
// cgroup or any of its ancestors, cgroup v2 first, then v1. Paths are read
// under root.
func cgroupMemoryLimit(root string) (uint64, error) {
	paths, err := readProcCgroup(filepath.Join(root, "proc", "self", "cgroup"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, errNoCgroupLimit
		}
		return 0, err
	}
	mounts, err := readCgroupMounts(filepath.Join(root, "proc", "self", "mountinfo"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, errNoCgroupLimit
		}
		return 0, err
	}
	var errs []error
	for _, h := range []struct {
		mount cgroupMount
		path  string
		file  string
	}{
		{mounts.v2, paths.v2, "memory.max"},
		{mounts.v1Memory, paths.v1Memory, "memory.limit_in_bytes"},
	} {
		if h.mount.point == "" || h.path == "" {
			continue
		}
		limit, err := walkCgroupLimit(root, h.mount, h.path, h.file)
		if err == nil {
			return limit, nil
		}
		if !errors.Is(err, errNoCgroupLimit) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	return 0, errNoCgroupLimit
}

// walkCgroupLimit reads file in the process's cgroup directory and each
// parent up to the mount point and returns the smallest limit found.
func walkCgroupLimit(root string, m cgroupMount, cgPath, file string) (uint64, error) {
	top := filepath.Join(root, m.point)
	// Inside a container without a cgroup namespace, /proc/self/cgroup names
	// the host's path while the mount shows only the container's subtree:
	// then the mount point itself is the process's cgroup.
	rel, ok := strings.CutPrefix(cgPath, m.root)
	if !ok || m.root == "/" {
		rel = cgPath
	}
	dir := filepath.Join(top, rel)
	if _, err := os.Stat(dir); err != nil {
		dir = top
	}
	var (
		min   uint64
		found bool
	)
	for {
		limit, set, err := readLimitFile(filepath.Join(dir, file))
		if err != nil {
			return 0, err
		}
		if set && (!found || limit < min) {
			min, found = limit, true
		}
		if dir == top || len(dir) <= len(top) {
			break
		}
		dir = filepath.Dir(dir)
	}
	if !found {
		return 0, errNoCgroupLimit
	}
	return min, nil
}

// readLimitFile parses memory.max ("max" or bytes) or memory.limit_in_bytes.
// A missing file is "not set": the root cgroup has none.
func readLimitFile(path string) (limit uint64, set bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, false, nil
		}
		return 0, false, err
	}
	s := string(bytes.TrimSpace(b))
	if s == "max" {
		return 0, false, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("cgroup limit file %s: malformed value %q", path, s)
	}
	if v >= cgroupV1Unlimited {
		return 0, false, nil
	}
	return v, true, nil
}

type cgroupPaths struct {
	v2       string // path of the unified hierarchy ("0::/path")
	v1Memory string // path in the v1 hierarchy that has the memory controller
}

// readProcCgroup parses /proc/self/cgroup: "id:controllers:path" per line.
func readProcCgroup(path string) (cgroupPaths, error) {
	f, err := os.Open(path)
	if err != nil {
		return cgroupPaths{}, err
	}
	defer f.Close()
	var p cgroupPaths
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), ":", 3)
		if len(fields) != 3 {
			continue
		}
		switch {
		case fields[0] == "0" && fields[1] == "":
			p.v2 = fields[2]
		case hasController(fields[1], "memory"):
			p.v1Memory = fields[2]
		}
	}
	if err := sc.Err(); err != nil {
		return cgroupPaths{}, fmt.Errorf("read %s: %w", path, err)
	}
	return p, nil
}

type cgroupMount struct {
	root  string // the path inside the hierarchy that is mounted
	point string // where it is mounted
}

type cgroupMounts struct {
	v2       cgroupMount
	v1Memory cgroupMount
}

// readCgroupMounts finds the cgroup2 mount and the cgroup v1 mount carrying
// the memory controller in /proc/self/mountinfo. Each line reads
// "id parent major:minor root point options [optional...] - fstype source superoptions".
func readCgroupMounts(path string) (cgroupMounts, error) {
	f, err := os.Open(path)
	if err != nil {
		return cgroupMounts{}, err
	}
	defer f.Close()
	var m cgroupMounts
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		left, right := strings.Fields(pre), strings.Fields(post)
		if len(left) < 5 || len(right) < 3 {
			continue
		}
		mnt := cgroupMount{root: left[3], point: left[4]}
		switch {
		case right[0] == "cgroup2" && m.v2.point == "":
			m.v2 = mnt
		case right[0] == "cgroup" && hasController(right[2], "memory") && m.v1Memory.point == "":
			m.v1Memory = mnt
		}
	}
	if err := sc.Err(); err != nil {
		return cgroupMounts{}, fmt.Errorf("read %s: %w", path, err)
	}
	return m, nil
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}
