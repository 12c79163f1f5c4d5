package procmem

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func writeStatm(t *testing.T, content string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "proc", "self")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "statm"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestReadStatm(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("statm is Linux-only")
	}
	page := uint64(os.Getpagesize())
	r, err := Open(writeStatm(t, "2000 500 100 10 0 300 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	u, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if u.RSS != 500*page || u.Virtual != 2000*page {
		t.Errorf("Read = %+v, want RSS %d Virtual %d", u, 500*page, 2000*page)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v, want ErrClosed", err)
	}
}

func TestReadStatmMalformed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("statm is Linux-only")
	}
	// 2^63 pages: a valid uint64 that overflows as bytes.
	for _, content := range []string{"", "abc 1", "12", "99999999999999999999999 1", "9223372036854775808 1", "1 9223372036854775808"} {
		r, err := Open(writeStatm(t, content))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Read()
		r.Close()
		if err == nil || !strings.Contains(err.Error(), "statm") {
			t.Errorf("Read of %q: error %v, want one naming the statm file", content, err)
		}
	}
}

func TestOpenMissing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("statm is Linux-only")
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "statm") {
		t.Errorf("Open of an empty root: %v, want an error naming statm", err)
	}
}

// FuzzParseStatm: no input panics, and a value read is the page count
// times the page size, never a wrapped product.
func FuzzParseStatm(f *testing.F) {
	if runtime.GOOS != "linux" {
		f.Skip("statm is Linux-only")
	}
	f.Add("4242 1234 567 8 0 910 0\n")
	f.Add("18446744073709551615 1")
	f.Add(" 1 2")
	f.Fuzz(func(t *testing.T, content string) {
		r, err := Open(writeStatm(t, content))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		u, err := r.Read()
		if err != nil {
			return
		}
		page := uint64(os.Getpagesize())
		if u.RSS%page != 0 || u.Virtual%page != 0 {
			t.Errorf("%q: RSS %d, virtual %d are not whole pages", content, u.RSS, u.Virtual)
		}
	})
}
