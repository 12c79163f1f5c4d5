//go:build unix

package otelmem

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/memwatch/memwatch/internal/testutil/otelerrors"
)

// TestFSRootStaysInsideTheRoot: a container's tree with memory.max linked
// to a host file (1 MiB of garbage) and FIFOs at memory.current,
// memory.events and statm. Start and a collection return (no FIFO blocks
// them), the host file is not read as the limit, and no error reported
// quotes more than a short prefix of anything.
func TestFSRootStaysInsideTheRoot(t *testing.T) {
	files := maps.Clone(containerFiles)
	delete(files, "sys/fs/cgroup/pod/memory.max")
	root := fakeRoot(t, files)
	host := filepath.Join(t.TempDir(), "host-file")
	if err := os.WriteFile(host, []byte(strings.Repeat("7", 1<<20)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(host, filepath.Join(root, "sys/fs/cgroup/pod/memory.max")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sys/fs/cgroup/pod/app/memory.current", "sys/fs/cgroup/pod/app/memory.events", "proc/self/statm"} {
		p := filepath.Join(root, name)
		_ = os.Remove(p)
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	errs := otelerrors.Record(t)
	m, reader := startWithReader(t, WithoutRuntimeInstrumentation(), WithFSRoot(root))
	rm := collect(t, reader)
	if s, _ := m.Snapshot(); s.LimitSource == LimitSourceCgroup {
		t.Errorf("limit %d from the cgroup: the link out of the root was followed", s.Limit)
	}
	if _, ok := findMetric(rm, ScopeName, metricCgroupUsage); ok {
		t.Error("a cgroup usage was observed from a FIFO")
	}
	all := errs.All()
	if len(all) == 0 {
		t.Error("no error reported for the link out of the root and the FIFOs")
	}
	for _, err := range all {
		if len(err.Error()) > 2000 {
			t.Errorf("an error of %d bytes: %.200s...", len(err.Error()), err)
		}
	}
}
