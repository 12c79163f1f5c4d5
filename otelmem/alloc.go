package otelmem

import (
	"cmp"
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/memwatch/memwatch/internal/frames"
)

// AllocSite is a place in the code that holds heap memory: the function,
// file and line that allocated it, with what is still in use there.
type AllocSite struct {
	Function string
	File     string
	Line     int

	InUseBytes   int64
	InUseObjects int64
}

// String renders the site as "function (file:line)".
func (a AllocSite) String() string {
	return fmt.Sprintf("%s (%s:%d)", a.Function, a.File, a.Line)
}

// TopAllocations returns up to n allocation sites holding the most heap
// memory, largest first: Go's analogue of tracemalloc's top statistics.
//
// It reads the runtime's heap profile, which samples about one allocation
// per runtime.MemProfileRate bytes and reflects the heap as of the last
// completed GC; sizes are scaled up to estimate the whole heap the same way
// `go tool pprof` does. A site is the innermost frame of the allocating
// stack. It costs a walk over the profile and allocates: call it on demand,
// not per request.
func (m *Monitor) TopAllocations(n int) ([]AllocSite, error) {
	if n < 0 {
		return nil, fmt.Errorf("otelmem: TopAllocations(%d): n must not be negative", n)
	}
	if n == 0 {
		return nil, nil
	}
	sites := make(map[siteKey]*AllocSite)
	rate := runtime.MemProfileRate
	for _, r := range memProfile() {
		objects, bytes := scaleHeapSample(r.InUseObjects(), r.InUseBytes(), rate)
		if bytes == 0 {
			continue
		}
		k, ok := allocFrame(r.Stack())
		if !ok {
			continue
		}
		site := sites[k]
		if site == nil {
			site = &AllocSite{Function: k.function, File: k.file, Line: k.line}
			sites[k] = site
		}
		site.InUseBytes += bytes
		site.InUseObjects += objects
	}
	out := make([]AllocSite, 0, len(sites))
	for _, s := range sites {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b AllocSite) int {
		if c := cmp.Compare(b.InUseBytes, a.InUseBytes); c != 0 {
			return c
		}
		return cmp.Compare(a.String(), b.String())
	})
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

type siteKey struct {
	function, file string
	line           int
}

// memProfile returns every heap profile record, growing the buffer until
// the runtime's list fits (it can grow between the two calls).
func memProfile() []runtime.MemProfileRecord {
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs := make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			return recs[:n]
		}
	}
}

// allocFrame returns the frame that allocated: the innermost one outside
// the runtime's packages (the profile's stacks start inside mallocgc). A stack
// made only of runtime frames keeps its outermost runtime frame.
func allocFrame(stack []uintptr) (siteKey, bool) {
	var last runtime.Frame
	callers := runtime.CallersFrames(stack)
	for {
		f, more := callers.Next()
		if f.Function != "" {
			last = f
			if !frames.IsRuntime(f.Function) {
				break
			}
		}
		if !more {
			break
		}
	}
	if last.Function == "" {
		return siteKey{}, false
	}
	return siteKey{function: last.Function, file: last.File, line: last.Line}, true
}

// scaleHeapSample estimates the true object count and size behind a heap
// profile record. The runtime samples an allocation of size s with
// probability 1-exp(-s/rate), so each sampled average-sized allocation
// stands for 1/(1-exp(-avg/rate)) real ones.
func scaleHeapSample(count, size int64, rate int) (int64, int64) {
	if count <= 0 || size <= 0 {
		return 0, 0
	}
	if rate <= 1 {
		return count, size // every allocation was recorded
	}
	avg := float64(size) / float64(count)
	scale := 1 / (1 - math.Exp(-avg/float64(rate)))
	return int64(float64(count) * scale), int64(float64(size) * scale)
}
