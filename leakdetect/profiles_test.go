package leakdetect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

func TestProfileStoreKeepsAtMostMax(t *testing.T) {
	dir := t.TempDir()
	ps := profileStore{dir: dir, max: 2, maxBytes: maxProfileDirBytes}
	openStore(t, &ps)
	at := scenario.Start
	if _, err := ps.write("baseline", at, []byte("b")); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := ps.write("finding", at.Add(time.Duration(i)*time.Second), []byte("f")); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pb.gz"))
	if len(files) != 3 {
		t.Errorf("files %v, want the baseline and the 2 newest", files)
	}
}

// TestProfileDirCannotBeAbused: a symlink planted at the next profile's
// name is replaced, not written through; the directory is checked at
// Start; earlier runs' files and partial files are pruned by count and
// bytes; a failed write leaves nothing.
func TestProfileDirCannotBeAbused(t *testing.T) {
	t.Run("planted symlink", func(t *testing.T) {
		dir, victim := t.TempDir(), filepath.Join(t.TempDir(), "victim")
		os.WriteFile(victim, []byte("precious"), 0o644)
		at := scenario.Start
		planted := filepath.Join(dir, "memwatch-heap-finding-"+at.UTC().Format("20060102T150405.000Z")+".pb.gz")
		if err := os.Symlink(victim, planted); err != nil {
			t.Skip(err)
		}
		ps := profileStore{dir: dir, max: 5, maxBytes: 1 << 20}
		openStore(t, &ps)
		path, err := ps.write("finding", at, []byte("profile"))
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(victim); string(b) != "precious" {
			t.Errorf("the symlink's target was overwritten: %q", b)
		}
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("profile %s: %v, mode %v; want a regular 0600 file", path, err, fi.Mode())
		}
	})
	t.Run("directory checked at Start", func(t *testing.T) {
		base := t.TempDir()
		missing := filepath.Join(base, "a", "b")
		d, err := Start(WithProfileDir(missing))
		if err != nil {
			t.Fatalf("missing dir: %v", err)
		}
		d.Shutdown(context.Background())
		if fi, err := os.Stat(missing); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("created %v mode %v, want 0700", err, fi.Mode())
		}
		file := filepath.Join(base, "file")
		os.WriteFile(file, nil, 0o600)
		open := filepath.Join(base, "open")
		os.Mkdir(open, 0o777)
		os.Chmod(open, 0o777)
		for dir, want := range map[string]string{file: "not a directory", open: "writable by anyone"} {
			if d, err := Start(WithProfileDir(dir)); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "WithProfileDir") {
				if d != nil {
					d.Shutdown(context.Background())
				}
				t.Errorf("WithProfileDir(%s): %v, want an error saying %q", dir, err, want)
			}
		}
		os.Chmod(open, 0o777|os.ModeSticky)
		if d, err := Start(WithProfileDir(open)); err != nil {
			t.Errorf("sticky world-writable dir refused: %v", err)
		} else {
			d.Shutdown(context.Background())
		}
	})
	t.Run("earlier runs and partial files pruned", func(t *testing.T) {
		dir := t.TempDir()
		old := time.Now().Add(-time.Hour)
		for i := range 6 {
			p := filepath.Join(dir, fmt.Sprintf("memwatch-heap-baseline-2025010%dT000000.000Z.pb.gz", i))
			os.WriteFile(p, make([]byte, 1000), 0o600)
			os.Chtimes(p, old, old.Add(time.Duration(i)*time.Minute))
		}
		partial := filepath.Join(dir, ".memwatch-heap-123.partial")
		os.WriteFile(partial, make([]byte, 1000), 0o600)
		os.Chtimes(partial, old, old)
		mine := filepath.Join(dir, "notes.txt")
		os.WriteFile(mine, nil, 0o600)
		ps := profileStore{dir: dir, max: 3, maxBytes: 2500}
		openStore(t, &ps)
		if _, err := ps.write("baseline", scenario.Start, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "memwatch-heap-*"))
		// This run's baseline plus the 2 newest old ones (2500 bytes).
		if len(files) != 3 {
			t.Errorf("files %v, want this run's baseline and the 2 newest earlier ones", files)
		}
		if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
			t.Error("stale partial file kept")
		}
		if _, err := os.Stat(mine); err != nil {
			t.Error("a file not memwatch's was removed")
		}
	})
	t.Run("failed write leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		at := scenario.Start
		// A directory where the profile should go makes the rename fail.
		os.Mkdir(filepath.Join(dir, "memwatch-heap-finding-"+at.UTC().Format("20060102T150405.000Z")+".pb.gz"), 0o700)
		ps := profileStore{dir: dir, max: 3, maxBytes: 1 << 20}
		openStore(t, &ps)
		if _, err := ps.write("finding", at, []byte("x")); err == nil {
			t.Fatal("write succeeded")
		}
		if left, _ := filepath.Glob(filepath.Join(dir, ".memwatch-heap-*")); len(left) != 0 {
			t.Errorf("partial files left: %v", left)
		}
	})
}

// openStore opens ps's directory for the test.
func openStore(t *testing.T, ps *profileStore) {
	t.Helper()
	if err := ps.open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.close() })
}
