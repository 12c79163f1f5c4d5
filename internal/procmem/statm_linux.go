//go:build linux

package procmem

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"sync"

	"github.com/memwatch/memwatch/internal/rootfs"
)

// statmSource re-reads a kept-open /proc/self/statm with pread. The kernel
// renders the file on every read, so offset 0 always gives fresh numbers.
type statmSource struct {
	f        *os.File
	pageSize uint64

	// mu guards buf, which lives here rather than on the stack because
	// ReadAt's interface call would make a stack buffer escape: one
	// allocation per read.
	mu sync.Mutex
	// statm holds seven decimal page counts; 128 bytes is ample.
	buf [128]byte
}

func openSource(root string) (source, error) {
	path := filepath.Join(root, "proc", "self", "statm")
	f, err := rootfs.Open(root, path)
	if err != nil {
		return nil, err
	}
	return &statmSource{f: f, pageSize: uint64(os.Getpagesize())}, nil
}

func (s *statmSource) read() (Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := s.buf[:]
	n, err := s.f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, os.ErrClosed) {
			return Usage{}, ErrClosed
		}
		return Usage{}, fmt.Errorf("procmem: read %s: %w", s.f.Name(), err)
	}
	size, rest, ok := parseUint(buf[:n])
	if !ok {
		return Usage{}, fmt.Errorf("procmem: %s: malformed size field in %q", s.f.Name(), buf[:n])
	}
	resident, _, ok := parseUint(rest)
	if !ok {
		return Usage{}, fmt.Errorf("procmem: %s: malformed resident field in %q", s.f.Name(), buf[:n])
	}
	rss, ok1 := pagesToBytes(resident, s.pageSize)
	virtual, ok2 := pagesToBytes(size, s.pageSize)
	if !ok1 || !ok2 {
		return Usage{}, fmt.Errorf("procmem: %s: page counts in %q overflow 64 bits as bytes", s.f.Name(), buf[:n])
	}
	return Usage{RSS: rss, Virtual: virtual}, nil
}

// pagesToBytes multiplies, reporting false when the product does not fit.
func pagesToBytes(pages, pageSize uint64) (uint64, bool) {
	hi, lo := bits.Mul64(pages, pageSize)
	return lo, hi == 0
}

func (s *statmSource) close() error {
	return s.f.Close()
}

// parseUint reads one space-separated decimal number from the front of b and
// returns it with the remainder. It does not allocate, unlike strconv on a
// converted string.
func parseUint(b []byte) (v uint64, rest []byte, ok bool) {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	start := i
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, nil, false
		}
		v = v*10 + d
	}
	if i == start {
		return 0, nil, false
	}
	return v, b[i:], true
}
