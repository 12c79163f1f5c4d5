package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/memwatch/memwatch/internal/rootfs"
)

type mount struct {
	root  string // the path inside the hierarchy that is mounted
	point string // where it is mounted
}

type mounts struct {
	v2       mount
	v1Memory mount
}

// readMounts finds, in /proc/self/mountinfo, the cgroup2 mount and
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
func readMounts(root, path string, p paths) (mounts, error) {
	f, err := rootfs.Open(root, path)
	if err != nil {
		return mounts{}, err
	}
	defer f.Close()
	var m mounts
	r := bufio.NewReader(f)
	for {
		line, err := readLine(r)
		if line != "" {
			pre, post, ok := strings.Cut(line, " - ")
			left, right := strings.Fields(pre), strings.Fields(post)
			if ok && len(left) >= 5 && len(right) >= 3 {
				mnt := mount{root: unescapeOctal(left[3]), point: unescapeOctal(left[4])}
				switch {
				case right[0] == "cgroup2":
					m.v2 = betterMount(m.v2, mnt, p.v2)
				case right[0] == "cgroup" && hasController(right[2], "memory"):
					m.v1Memory = betterMount(m.v1Memory, mnt, p.v1Memory)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return mounts{}, fmt.Errorf("read %s: %w", path, err)
		}
	}
}

// maxMountinfoLine bounds one line of mountinfo (a line is one mount;
// overlay options can run to hundreds of KiB).
const maxMountinfoLine = 4 << 20

// readLine reads one line of any length up to maxMountinfoLine, without
// its newline. A longer line is read past and returned empty: one mount
// memwatch cannot hold is skipped, the others still read.
func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong && b.Len()+len(chunk) > maxMountinfoLine {
			tooLong = true
			b.Reset()
		}
		if !tooLong {
			b.Write(chunk)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return strings.TrimSuffix(b.String(), "\n"), err
	}
}

// betterMount picks between the mount found so far and a new one for a
// process whose cgroup path is cgPath.
func betterMount(cur, next mount, cgPath string) mount {
	holds := func(m mount) bool {
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
