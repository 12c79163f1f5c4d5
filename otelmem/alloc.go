package otelmem

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/memwatch/memwatch/internal/memread"
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
	sites := memread.HeapSites()
	out := make([]AllocSite, 0, len(sites))
	for s, u := range sites {
		out = append(out, AllocSite{Function: s.Function, File: s.File, Line: s.Line, InUseBytes: u.Bytes, InUseObjects: u.Objects})
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
