//go:build linux

package otelmem

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/memwatch/memwatch/internal/quote"
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
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("MemTotal:"))
		if !ok {
			continue
		}
		v := bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))
		kb, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil || kb > 1<<53 {
			return 0, fmt.Errorf("%s: malformed MemTotal %s", path, quote.Short(string(rest)))
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("%s: no MemTotal line", path)
}
