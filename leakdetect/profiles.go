package leakdetect

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/memwatch/memwatch/internal/frames"
	"github.com/memwatch/memwatch/otelmem"
)

// maxProfileBytes bounds what the detector parses: a heap profile larger
// than this (gzipped) is not diffed, so a huge program is not made to hold
// two parsed copies of it.
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
		return nil, fmt.Errorf("%s profile is %d bytes, over the %d this detector parses", name, buf.Len(), maxProfileBytes)
	}
	return buf.Bytes(), nil
}

// site names a stack's first frame outside the runtime: "fn (file:line)".
func site(s *profile.Sample) string {
	var last string
	for _, loc := range s.Location {
		for _, ln := range loc.Line { // innermost first
			if ln.Function == nil {
				continue
			}
			last = fmt.Sprintf("%s (%s:%d)", ln.Function.Name, ln.Function.Filename, ln.Line)
			if !frames.IsRuntime(ln.Function.Name) {
				return last
			}
		}
	}
	return last
}

// inUseBySite sums a heap profile's in-use bytes by allocation site.
func inUseBySite(data []byte) (map[string]int64, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("parse heap profile: %w", err)
	}
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "inuse_space" {
			idx = i
		}
	}
	if idx < 0 {
		return nil, errors.New("heap profile has no inuse_space")
	}
	sites := make(map[string]int64)
	for _, s := range p.Sample {
		if v := s.Value[idx]; v != 0 {
			sites[site(s)] += v
		}
	}
	return sites, nil
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
	return largest(growth, n, func(site string, d int64) string { return otelmem.FormatDelta(d) + " " + site })
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
	data, err := capture("goroutine")
	if err != nil {
		return nil, err
	}
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("parse goroutine profile: %w", err)
	}
	groups := make(map[string]int64)
	for _, s := range p.Sample {
		var fs []string
		for _, loc := range s.Location {
			for _, ln := range loc.Line {
				if ln.Function != nil && !frames.IsRuntime(ln.Function.Name) && len(fs) < 3 {
					fs = append(fs, fmt.Sprintf("%s (%s:%d)", ln.Function.Name, filepath.Base(ln.Function.Filename), ln.Line))
				}
			}
		}
		groups[strings.Join(fs, " ← ")] += s.Value[0]
	}
	return largest(groups, n, func(stack string, c int64) string { return fmt.Sprintf("%d × %s", c, stack) }), nil
}

// profileStore writes heap profiles into a directory, keeping the baseline
// and at most max finding profiles.
type profileStore struct {
	dir string
	max int

	// mu guards written: a profile job that outlived its timeout can still
	// be writing when the next finding's starts.
	mu      sync.Mutex
	written []string // finding profiles, oldest first
}

func (ps *profileStore) write(kind string, at time.Time, data []byte) (string, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	name := fmt.Sprintf("memwatch-heap-%s-%s.pb.gz", kind, at.UTC().Format("20060102T150405.000Z"))
	path := filepath.Join(ps.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("write heap profile: %w", err)
	}
	if kind == "baseline" {
		return path, nil
	}
	ps.written = append(ps.written, path)
	var errs []error
	for len(ps.written) > ps.max {
		if err := os.Remove(ps.written[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		ps.written = ps.written[1:]
	}
	return path, errors.Join(errs...)
}
