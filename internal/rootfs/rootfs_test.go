//go:build unix

package rootfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenRefusesWhatIsNotARegularFileUnderTheRoot(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "host-secret")
	if err := os.WriteFile(outside, []byte("123"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, name := range []string{"ok", "fifo", "abs-link", "rel-link", "inside-link"} {
		p := filepath.Join(root, name)
		var err error
		switch name {
		case "ok":
			err = os.WriteFile(p, []byte("42\n"), 0o644)
		case "fifo":
			err = syscall.Mkfifo(p, 0o644)
		case "abs-link":
			err = os.Symlink(outside, p)
		case "rel-link":
			err = os.Symlink("../"+filepath.Base(filepath.Dir(outside))+"/host-secret", p)
		case "inside-link":
			err = os.Symlink("ok", p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if b, err := ReadFile(root, filepath.Join(root, "ok"), 16); err != nil || string(b) != "42\n" {
		t.Errorf("ok: %q, %v", b, err)
	}
	if b, err := ReadFile(root, filepath.Join(root, "inside-link"), 16); err != nil || string(b) != "42\n" {
		t.Errorf("a link inside the root: %q, %v; want it followed", b, err)
	}
	if _, err := ReadFile(root, filepath.Join(root, "fifo"), 16); !errors.Is(err, ErrNotRegular) {
		t.Errorf("fifo: %v, want ErrNotRegular (and no wait)", err)
	}
	for _, name := range []string{"abs-link", "rel-link"} {
		b, err := ReadFile(root, filepath.Join(root, name), 16)
		if err == nil || errors.Is(err, fs.ErrNotExist) || strings.Contains(string(b), "123") {
			t.Errorf("%s: %q, %v; want an error, the file outside unread", name, b, err)
		}
	}
	if _, err := ReadFile(root, filepath.Join(root, "missing"), 16); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v, want fs.ErrNotExist", err)
	}
	if _, err := ReadFile(root, outside, 16); err == nil {
		t.Error("a path outside the root was read")
	}
	if _, err := ReadFile(root, filepath.Join(root, "ok"), 2); err == nil || !strings.Contains(err.Error(), "longer than 2 bytes") {
		t.Errorf("too long: %v", err)
	}
	if !IsDir(root, root) || IsDir(root, filepath.Join(root, "ok")) {
		t.Error("IsDir")
	}
}
