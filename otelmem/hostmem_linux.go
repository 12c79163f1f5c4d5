//go:build linux

package otelmem

import (
	"fmt"
	"path/filepath"

	"github.com/memwatch/memwatch/internal/procmem"
	"github.com/memwatch/memwatch/internal/rootfs"
)

// hostMemory is MemTotal of /proc/meminfo under root, read inside the
// root like every other file there.
func hostMemory(root string) (uint64, error) {
	path := filepath.Join(root, "proc", "meminfo")
	b, err := rootfs.ReadFile(root, path, 64<<10)
	if err != nil {
		return 0, err
	}
	n, found, err := procmem.KiBField(b, "MemTotal")
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s: malformed MemTotal line", path)
	case !found:
		return 0, fmt.Errorf("%s: no MemTotal line", path)
	}
	return n, nil
}
