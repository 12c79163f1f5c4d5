// Package cgroup reads the memory files of the process's own cgroup (v2,
// and v1 where its memory controller is mounted): limits, usage, working
// set, events and pressure. Every path is read under a root (/ in
// production, a fake tree in tests). A file that does not exist is "not
// available", never an error; a file that does not parse is an error naming
// the file and the value.
package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/memwatch/memwatch/internal/rootfs"
)

// ErrNone means the process is in no cgroup hierarchy memwatch can read:
// no /proc/self/cgroup, or no cgroup file system mounted. Find then still
// returns a usable Group: its cgroup readings are "not available", and
// Pressure reads the system's file.
var ErrNone = errors.New("no cgroup")

// Group is the process's memory cgroup: where its files are, in the
// unified (v2) hierarchy and in the v1 memory hierarchy (either may be
// absent; on a hybrid host both are, and only v1 has the memory files).
type Group struct {
	root string
	v2   dir
	v1   dir
}

// dir is a cgroup directory and the mount point above which its ancestors
// are not read.
type dir struct {
	leaf, top string
}

func (d dir) ok() bool { return d.leaf != "" }

// Find locates the process's memory cgroup under root.
func Find(root string) (Group, error) {
	paths, err := readProcCgroup(root, filepath.Join(root, "proc", "self", "cgroup"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Group{root: root}, ErrNone
		}
		return Group{root: root}, err
	}
	mounts, err := readMounts(root, filepath.Join(root, "proc", "self", "mountinfo"), paths)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Group{root: root}, ErrNone
		}
		return Group{root: root}, err
	}
	g := Group{root: root}
	if mounts.v2.point != "" && paths.v2 != "" {
		g.v2 = locate(root, mounts.v2, paths.v2)
	}
	if mounts.v1Memory.point != "" && paths.v1Memory != "" {
		g.v1 = locate(root, mounts.v1Memory, paths.v1Memory)
	}
	if !g.v2.ok() && !g.v1.ok() {
		return g, ErrNone
	}
	return g, nil
}

// locate finds the process's cgroup directory under a mount. Inside a
// container without a cgroup namespace, /proc/self/cgroup names the host's
// path while the mount shows only the container's subtree: then the mount
// point itself is the process's cgroup.
func locate(root string, m mount, cgPath string) dir {
	top := filepath.Join(root, m.point)
	rel, ok := strings.CutPrefix(cgPath, m.root)
	if !ok || m.root == "/" {
		rel = cgPath
	}
	leaf := filepath.Join(top, rel)
	if !rootfs.IsDir(root, leaf) {
		leaf = top
	}
	return dir{leaf: leaf, top: top}
}

// read returns the named file of the first hierarchy that has it (v2 name
// in the v2 directory, else v1 name in the v1 directory), which one it was,
// and ok false when neither has it.
func (g Group) read(v2name, v1name string) (data []byte, path string, v1, ok bool, err error) {
	for _, c := range []struct {
		d    dir
		name string
		v1   bool
	}{{g.v2, v2name, false}, {g.v1, v1name, true}} {
		if !c.d.ok() || c.name == "" {
			continue
		}
		p := filepath.Join(c.d.leaf, c.name)
		b, err := g.readSmall(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, p, c.v1, false, err
		}
		return b, p, c.v1, true, nil
	}
	return nil, "", false, false, nil
}

// maxFile bounds what is read of one cgroup file; memory.stat is a few KiB.
const maxFile = 1 << 20

// readSmall reads a file of the cgroup tree, inside the root: the tree
// may be written by the very container whose files these are.
func (g Group) readSmall(path string) ([]byte, error) {
	return rootfs.ReadFile(g.root, path, maxFile)
}

type paths struct {
	v2       string // path of the unified hierarchy ("0::/path")
	v1Memory string // path in the v1 hierarchy that has the memory controller
}

// readProcCgroup parses /proc/self/cgroup: "id:controllers:path" per line.
func readProcCgroup(root, path string) (paths, error) {
	f, err := rootfs.Open(root, path)
	if err != nil {
		return paths{}, err
	}
	defer f.Close()
	var p paths
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
		return paths{}, fmt.Errorf("read %s: %w", path, err)
	}
	return p, nil
}

func hasController(list, name string) bool {
	for c := range strings.SplitSeq(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}
