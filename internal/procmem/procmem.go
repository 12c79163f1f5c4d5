// Package procmem reads the resident and virtual memory of the current
// process as cheaply as the platform allows.
//
// On Linux it keeps /proc/self/statm open and re-reads it with pread, which
// costs one system call and no allocation. Elsewhere it asks gopsutil.
package procmem

import (
	"errors"
	"fmt"
)

// Usage is the memory of the process in bytes.
type Usage struct {
	RSS     uint64 // resident set size
	Virtual uint64 // committed virtual memory
}

// ErrClosed is returned by Read after Close.
var ErrClosed = errors.New("procmem: reader is closed")

// Reader reads the current process's memory. It is safe for concurrent use.
type Reader struct {
	src source
}

// Open returns a Reader. root is the directory under which Linux's proc
// file system is looked up ("/" in production, a fake tree in tests); it is
// ignored on platforms without /proc.
func Open(root string) (*Reader, error) {
	src, err := openSource(root)
	if err != nil {
		return nil, fmt.Errorf("procmem: %w", err)
	}
	return &Reader{src: src}, nil
}

// Read returns the process's memory now.
func (r *Reader) Read() (Usage, error) {
	return r.src.read()
}

// Close releases the reader's file descriptor, if any.
func (r *Reader) Close() error {
	return r.src.close()
}
