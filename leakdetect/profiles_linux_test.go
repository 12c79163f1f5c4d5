package leakdetect

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
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
	openStore(t, &ps)
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

// TestProfileDirSwappedForALinkAfterOpen: the directory is moved away
// and a symlink to another directory put in its place after the store
// opened it: profiles still go into the directory opened, none through
// the link.
func TestProfileDirSwappedForALinkAfterOpen(t *testing.T) {
	parent := t.TempDir()
	dir, moved, elsewhere := filepath.Join(parent, "profiles"), filepath.Join(parent, "moved"), filepath.Join(parent, "elsewhere")
	for _, d := range []string{dir, elsewhere} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ps := profileStore{dir: dir, max: 5, maxBytes: 1 << 20}
	openStore(t, &ps)
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := ps.write("finding", time.Unix(1e9, 0), []byte("profile")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadDir(elsewhere); len(got) != 0 {
		t.Errorf("%d files written through the link", len(got))
	}
	if got, _ := os.ReadDir(moved); len(got) != 1 {
		t.Errorf("%d files in the directory opened, want the profile", len(got))
	}
}
