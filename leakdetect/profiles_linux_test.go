package leakdetect

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/memwatch/memwatch/internal/scenario"
)

// TestProfileWriteOnAFullDisk: on a 64 KiB tmpfs, a profile that does not
// fit fails with an error and leaves no partial file; the next one that
// fits is written. Needs the right to mount (root in CI); skipped without.
func TestProfileWriteOnAFullDisk(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
	ps := profileStore{dir: dir, max: 5, maxBytes: 1 << 20}
	if _, err := ps.write("finding", scenario.Start, bytes.Repeat([]byte("x"), 256<<10)); err == nil {
		t.Fatal("a 256 KiB profile was written to a 64 KiB disk")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("left behind on the full disk: %v", left)
	}
	path, err := ps.write("finding", scenario.Start, []byte("small"))
	if err != nil {
		t.Fatalf("a small profile after the failure: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "small" {
		t.Errorf("profile holds %q", b)
	}
}
