package procmem

import (
	"syscall"
	"testing"
)

// TestReadRealProcess checks the real process: RSS is positive and below
// virtual memory, and writing 32 MiB makes RSS rise by at least 28 MiB.
// The 32 MiB is a fresh anonymous mapping: heap memory could be pages an
// earlier test freed and the runtime kept, already counted in RSS.
func TestReadRealProcess(t *testing.T) {
	r, err := Open("/")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	before, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if before.RSS == 0 || before.RSS > before.Virtual {
		t.Fatalf("implausible usage %+v", before)
	}
	buf, err := syscall.Mmap(-1, 0, 32<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(buf)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	after, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if after.RSS < before.RSS+28<<20 {
		t.Errorf("RSS %d -> %d after writing 32 MiB, want a rise of at least 28 MiB", before.RSS, after.RSS)
	}
}
