package procmem

import (
	"bytes"
	"strconv"
)

// KiBField finds the line "key:   N kB" of a /proc status-like file
// (/proc/PID/status, /proc/meminfo) and returns N kB in bytes. found is
// false when no line has key; err says a line that has it does not parse
// (or holds more than 2^63 bytes).
func KiBField(data []byte, key string) (n uint64, found bool, err error) {
	prefix := []byte(key + ":")
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		v := bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))
		kb, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil || kb >= 1<<53 {
			return 0, true, strconv.ErrSyntax
		}
		return kb << 10, true, nil
	}
	return 0, false, nil
}
