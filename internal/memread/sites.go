package memread

import (
	"fmt"
	"math"
	"runtime"
	"strings"
)

// Site is a place in the code: the function, file and line of a frame.
type Site struct {
	Function string
	File     string
	Line     int
}

// String renders the site as "function (file:line)".
func (s Site) String() string {
	return fmt.Sprintf("%s (%s:%d)", s.Function, s.File, s.Line)
}

// Usage is what the heap holds at a site, scaled from the profile's samples
// to the whole heap.
type Usage struct {
	Bytes, Objects int64
}

// HeapSites sums the heap profile's in-use memory by allocation site: the
// innermost frame of each stack outside the runtime. The profile reflects
// the heap as of the last completed GC and samples about one allocation per
// runtime.MemProfileRate bytes; sizes are scaled up the way go tool pprof
// does. It walks the whole profile and allocates: call it on demand.
func HeapSites() map[Site]Usage {
	sites := make(map[Site]Usage)
	rate := runtime.MemProfileRate
	for _, r := range memProfile() {
		objects, bytes := scaleHeapSample(r.InUseObjects(), r.InUseBytes(), rate)
		if bytes == 0 {
			continue
		}
		s, ok := allocSite(r.Stack())
		if !ok {
			continue
		}
		u := sites[s]
		u.Bytes += bytes
		u.Objects += objects
		sites[s] = u
	}
	return sites
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

// allocSite returns the frame that allocated: the innermost one outside the
// runtime's packages (the profile's stacks start inside mallocgc). A stack
// made only of runtime frames keeps its outermost runtime frame.
func allocSite(stack []uintptr) (Site, bool) {
	var last runtime.Frame
	callers := runtime.CallersFrames(stack)
	for {
		f, more := callers.Next()
		if f.Function != "" {
			last = f
			if !IsRuntime(f.Function) {
				break
			}
		}
		if !more {
			break
		}
	}
	if last.Function == "" {
		return Site{}, false
	}
	return Site{Function: last.Function, File: last.File, Line: last.Line}, true
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

// IsRuntime reports whether the function named fn is part of the runtime
// (runtime.mallocgc, runtime.gopark, internal/runtime/maps.newarray, ...)
// rather than code that called into it, so memory and goroutines are
// charged to the code that asked for them.
func IsRuntime(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/runtime/")
}
