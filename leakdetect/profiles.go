package leakdetect

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/memwatch/memwatch/internal/bytefmt"
	"github.com/memwatch/memwatch/internal/memread"
)

// maxProfileBytes bounds the profiles the detector keeps and parses.
const maxProfileBytes = 32 << 20

// capture writes the named runtime profile ("heap", "goroutine") in
// pprof's protobuf format.
func capture(name string) ([]byte, error) {
	p := pprof.Lookup(name)
	if p == nil {
		return nil, fmt.Errorf("no %s profile", name)
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, 0); err != nil {
		return nil, fmt.Errorf("write %s profile: %w", name, err)
	}
	if buf.Len() > maxProfileBytes {
		return nil, fmt.Errorf("%s profile is %d bytes, over the %d this detector keeps", name, buf.Len(), maxProfileBytes)
	}
	return buf.Bytes(), nil
}

// siteBytes keys the in-use bytes of each site by its "fn (file:line)".
func siteBytes(sites map[memread.Site]memread.Usage) map[string]int64 {
	out := make(map[string]int64, len(sites))
	for s, u := range sites {
		out[s.String()] += u.Bytes
	}
	return out
}

// grownSites lists the n allocation sites whose in-use bytes grew most
// from base to cur (tracemalloc's compare_to), largest first, as
// "+12.30 MiB fn (file:line)".
func grownSites(base, cur map[string]int64, n int) []string {
	growth := make(map[string]int64)
	for s, v := range cur {
		if d := v - base[s]; d > 0 {
			growth[s] = d
		}
	}
	return largest(growth, n, func(site string, d int64) string { return bytefmt.Delta(d) + " " + site })
}

// largest renders the n largest entries of m, largest first (ties by key),
// with format.
func largest(m map[string]int64, n int, format func(string, int64) string) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	out := make([]string, 0, min(n, len(keys)))
	for _, k := range keys[:min(n, len(keys))] {
		out = append(out, format(k, m[k]))
	}
	return out
}

// goroutinePileups groups the live goroutines by where they wait (the
// first three frames outside the runtime) and lists the n largest groups as
// "1200 × fn (file:line) ← caller (file:line)".
func goroutinePileups(n int) ([]string, error) {
	return groupedStacks("goroutine", n)
}

// groupedStacks groups the goroutines of the named profile by their first
// three frames outside the runtime and lists the n largest groups.
func groupedStacks(name string, n int) ([]string, error) {
	data, err := capture(name)
	if err != nil {
		return nil, err
	}
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("parse %s profile: %w", name, err)
	}
	groups := make(map[string]int64)
	for _, s := range p.Sample {
		var fs []string
		for _, loc := range s.Location {
			for _, ln := range loc.Line {
				if ln.Function != nil && !memread.IsRuntime(ln.Function.Name) && len(fs) < 3 {
					fs = append(fs, fmt.Sprintf("%s (%s:%d)", ln.Function.Name, filepath.Base(ln.Function.Filename), ln.Line))
				}
			}
		}
		groups[strings.Join(fs, " ← ")] += s.Value[0]
	}
	return largest(groups, n, func(stack string, c int64) string { return fmt.Sprintf("%d × %s", c, stack) }), nil
}

// profileStore writes heap profiles into a directory. It keeps this run's
// baseline and bounds every memwatch heap profile in the directory (of
// this run and earlier ones) by count and total bytes, oldest removed
// first.
//
// The directory is opened once (open) and every file is made, listed and
// removed relative to that handle: a directory swapped for a symlink
// after Start is not followed.
type profileStore struct {
	dir      string
	root     *os.Root // the directory as opened; nil until open
	max      int      // memwatch profiles besides this run's baseline
	maxBytes int64    // all memwatch profiles in dir

	// mu guards baseline: a profile job that outlived its timeout can
	// still be writing when the next finding's starts.
	mu       sync.Mutex
	baseline string
}

const (
	profilePrefix  = "memwatch-heap-"
	profileSuffix  = ".pb.gz"
	partialPattern = ".memwatch-heap-*.partial"
	// maxProfileDirBytes bounds the bytes of memwatch heap profiles
	// WithProfileDir's directory may hold.
	maxProfileDirBytes = 256 << 20
)

// checkProfileDir makes sure dir can hold profiles safely: it is created
// (0700) when missing, and refused when it is not a directory or when
// anyone may write to it without the sticky bit (where another user could
// plant or swap files).
func checkProfileDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("WithProfileDir(%q): %w", dir, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("WithProfileDir(%q): %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("WithProfileDir(%q): not a directory", dir)
	}
	if m := fi.Mode(); m.Perm()&0o002 != 0 && m&os.ModeSticky == 0 {
		return fmt.Errorf("WithProfileDir(%q): writable by anyone without the sticky bit (mode %v); use a directory of the service's own", dir, m)
	}
	return nil
}

// open opens the checked directory; close releases it.
func (ps *profileStore) open() error {
	r, err := os.OpenRoot(ps.dir)
	if err != nil {
		return fmt.Errorf("WithProfileDir(%q): %w", ps.dir, err)
	}
	ps.mu.Lock()
	ps.root = r
	ps.mu.Unlock()
	return nil
}

func (ps *profileStore) close() error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.root == nil {
		return nil
	}
	err := ps.root.Close()
	ps.root = nil
	return err
}

// write stores data as a new profile file and prunes the directory. The
// file is written under a fresh temporary name (created exclusively, mode
// 0600) and renamed into place, so a file or symlink planted at the
// predictable name is replaced, never followed or written through; a
// failed write leaves nothing behind. It returns the file's path.
func (ps *profileStore) write(kind string, at time.Time, data []byte) (string, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.root == nil {
		return "", errors.New("write heap profile: the profile directory is closed")
	}
	tmp, f, err := ps.createPartial()
	if err != nil {
		return "", fmt.Errorf("write heap profile: %w", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	name := fmt.Sprintf("%s%s-%s%s", profilePrefix, kind, at.UTC().Format("20060102T150405.000Z"), profileSuffix)
	if err := errors.Join(werr, cerr); err != nil {
		ps.root.Remove(tmp)
		return "", fmt.Errorf("write heap profile: %w", err)
	}
	if err := ps.root.Rename(tmp, name); err != nil {
		ps.root.Remove(tmp)
		return "", fmt.Errorf("write heap profile: %w", err)
	}
	if kind == "baseline" {
		ps.baseline = name
	}
	return filepath.Join(ps.dir, name), ps.pruneLocked()
}

// createPartial creates a new, empty partial file with a random name.
func (ps *profileStore) createPartial() (string, *os.File, error) {
	for range 10 {
		name := strings.Replace(partialPattern, "*", strconv.FormatUint(rand.Uint64(), 36), 1)
		f, err := ps.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, f, err
	}
	return "", nil, errors.New("no free name for a partial profile")
}

// prune removes memwatch profiles beyond the bounds, oldest first, never
// this run's baseline, and partial files older than a minute (a crash or
// a full disk in an earlier run).
func (ps *profileStore) prune() error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.pruneLocked()
}

func (ps *profileStore) pruneLocked() error {
	if ps.root == nil {
		return nil
	}
	d, err := ps.root.Open(".")
	if err != nil {
		return fmt.Errorf("prune heap profiles: %w", err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("prune heap profiles: %w", err)
	}
	type file struct {
		path string // relative to the directory
		size int64
		mod  time.Time
	}
	var files []file
	var errs []error
	for _, e := range entries {
		name := e.Name()
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		path := name
		if ok, _ := filepath.Match(partialPattern, name); ok {
			if time.Since(info.ModTime()) > time.Minute {
				errs = append(errs, ps.removeIfThere(path))
			}
			continue
		}
		if !strings.HasPrefix(name, profilePrefix) || !strings.HasSuffix(name, profileSuffix) || path == ps.baseline {
			continue
		}
		files = append(files, file{path, info.Size(), info.ModTime()})
	}
	slices.SortFunc(files, func(a, b file) int { return cmp.Or(a.mod.Compare(b.mod), cmp.Compare(a.path, b.path)) })
	var total int64
	for _, f := range files {
		total += f.size
	}
	for len(files) > 0 && (len(files) > ps.max || total > ps.maxBytes) {
		errs = append(errs, ps.removeIfThere(files[0].path))
		total -= files[0].size
		files = files[1:]
	}
	return errors.Join(errs...)
}

func (ps *profileStore) removeIfThere(name string) error {
	if err := ps.root.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
