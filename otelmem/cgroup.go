package otelmem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
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
	mounts, err := readCgroupMounts(filepath.Join(root, "proc", "self", "mountinfo"), paths)
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

// readCgroupMounts finds, in /proc/self/mountinfo, the cgroup2 mount and
// the cgroup v1 mount carrying the memory controller that hold this
// process's cgroup (paths from /proc/self/cgroup): among several (a
// container that also mounts the host's hierarchy, say) the one whose
// mounted root is the longest prefix of the process's path, then the one
// at /sys/fs/cgroup, then the first. Each line reads "id parent
// major:minor root point options [optional...] - fstype source
// superoptions", with spaces and other bytes in paths escaped as octal
// (\040).
//
// Hand-written rather than github.com/moby/sys/mountinfo: that parser
// gives up on lines over 64 KiB (bufio.Scanner's default), which hosts
// with many overlay layers reach, and exists for Linux only.
func readCgroupMounts(path string, paths cgroupPaths) (cgroupMounts, error) {
	f, err := os.Open(path)
	if err != nil {
		return cgroupMounts{}, err
	}
	defer f.Close()
	var m cgroupMounts
	r := bufio.NewReader(f)
	for {
		line, err := readLine(r)
		if line != "" {
			pre, post, ok := strings.Cut(line, " - ")
			left, right := strings.Fields(pre), strings.Fields(post)
			if ok && len(left) >= 5 && len(right) >= 3 {
				mnt := cgroupMount{root: unescapeOctal(left[3]), point: unescapeOctal(left[4])}
				switch {
				case right[0] == "cgroup2":
					m.v2 = betterMount(m.v2, mnt, paths.v2)
				case right[0] == "cgroup" && hasController(right[2], "memory"):
					m.v1Memory = betterMount(m.v1Memory, mnt, paths.v1Memory)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return cgroupMounts{}, fmt.Errorf("read %s: %w", path, err)
		}
	}
}

// maxMountinfoLine bounds one line of mountinfo (a line is one mount;
// overlay options can run to hundreds of KiB).
const maxMountinfoLine = 4 << 20

// readLine reads one line of any length up to maxMountinfoLine, without
// its newline.
func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		chunk, err := r.ReadSlice('\n')
		if b.Len()+len(chunk) > maxMountinfoLine {
			return "", fmt.Errorf("a line longer than %d bytes", maxMountinfoLine)
		}
		b.Write(chunk)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return strings.TrimSuffix(b.String(), "\n"), err
	}
}

// betterMount picks between the mount found so far and a new one for a
// process whose cgroup path is cgPath.
func betterMount(cur, next cgroupMount, cgPath string) cgroupMount {
	holds := func(m cgroupMount) bool {
		return m.root == "/" || cgPath == m.root || strings.HasPrefix(cgPath, strings.TrimSuffix(m.root, "/")+"/")
	}
	switch {
	case cur.point == "":
		return next
	case holds(next) != holds(cur):
		if holds(next) {
			return next
		}
		return cur
	case len(next.root) != len(cur.root):
		if len(next.root) > len(cur.root) {
			return next
		}
		return cur
	case next.point == "/sys/fs/cgroup" && cur.point != "/sys/fs/cgroup":
		return next
	}
	return cur
}

// unescapeOctal decodes the \NNN escapes the kernel writes for spaces,
// tabs, newlines and backslashes in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}
