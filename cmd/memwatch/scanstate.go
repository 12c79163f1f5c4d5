package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/memwatch/memwatch/leakdetect"
)

// progress is where one instance's scan stands: its analyzer, the time
// of the last point read, and what the restart series last read. Saved
// with --state, it lets the next scan read only what is new.
type progress struct {
	a           *leakdetect.Analyzer
	last        time.Time
	lastRestart float64
	haveRestart bool
}

func newProgress() (*progress, error) {
	a, err := leakdetect.NewAnalyzer()
	return &progress{a: a}, err
}

// A state file: magic, the instance's key (checked on load: a hash
// collision or a renamed file must not resume another instance), the
// progress, then the analyzer's own state (versioned and checksummed).
const scanStateMagic = "MWS1"

// stateFile is where an instance's progress is kept in dir: named by a
// hash of its key, which holds any label value.
func stateFile(dir, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, hex.EncodeToString(sum[:12])+".state")
}

// loadProgress reads an instance's saved progress; nil, nil when there is
// none.
func loadProgress(dir, key string) (*progress, error) {
	path := stateFile(dir, key)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	bad := func(why string) error {
		return fmt.Errorf("state file %s: %s (remove it to scan the instance afresh)", path, why)
	}
	rest, ok := bytes.CutPrefix(b, []byte(scanStateMagic))
	if !ok {
		return nil, bad("not a memwatch scan state")
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return nil, bad("truncated")
	}
	if string(rest[k:k+int(n)]) != key {
		return nil, bad("saved for another instance")
	}
	rest = rest[k+int(n):]
	if len(rest) < 8+4+8+1 {
		return nil, bad("truncated")
	}
	p, err := newProgress()
	if err != nil {
		return nil, err
	}
	p.last = time.Unix(int64(binary.LittleEndian.Uint64(rest)), int64(binary.LittleEndian.Uint32(rest[8:]))).UTC()
	p.lastRestart = math.Float64frombits(binary.LittleEndian.Uint64(rest[12:]))
	p.haveRestart = rest[20] == 1
	if err := p.a.UnmarshalBinary(rest[21:]); err != nil {
		return nil, bad(err.Error())
	}
	return p, nil
}

// save writes the progress atomically: a new file renamed over the old,
// so an interrupted scan leaves the last whole state.
func (p *progress) save(dir, key string) error {
	a, err := p.a.MarshalBinary()
	if err != nil {
		return err
	}
	b := []byte(scanStateMagic)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.LittleEndian.AppendUint64(b, uint64(p.last.Unix()))
	b = binary.LittleEndian.AppendUint32(b, uint32(p.last.Nanosecond()))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.lastRestart))
	if p.haveRestart {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = append(b, a...)
	f, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), stateFile(dir, key)); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
