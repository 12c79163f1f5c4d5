package spans

import (
	"sync/atomic"

	"github.com/memwatch/memwatch/internal/memread"
)

// memory is what an operation records at each end.
type memory struct {
	rss        uint64
	rssOK      bool
	heapLive   uint64
	heapAllocs uint64
	gcCycles   uint64
}

// sampler reads memory into a buffer it owns, so reads do not allocate.
type sampler struct {
	rt memread.Runtime
}

func (s *sampler) read() memory {
	var m memory
	if r := memread.SelfRSS(); r != nil {
		if u, err := r.Read(); err == nil {
			m.rss, m.rssOK = u.RSS, true
		}
	}
	v := s.rt.Read()
	m.heapLive, m.heapAllocs, m.gcCycles = v.HeapLive, v.HeapAllocs, v.GCCycles
	return m
}

// Overlap accounting: an operation overlapped every operation in flight
// when it started and every one started before it ended.
var (
	opsStarted  atomic.Int64
	opsInFlight atomic.Int64
)

// overlapToken is taken at an operation's start and settled at its end.
type overlapToken struct {
	startSeq, inFlightAtStart int64
}

func beginOverlap() overlapToken {
	seq := opsStarted.Add(1)
	return overlapToken{startSeq: seq, inFlightAtStart: opsInFlight.Add(1) - 1}
}

// end returns how many other tracked operations overlapped this one.
func (t overlapToken) end() int64 {
	startedSince := opsStarted.Load() - t.startSeq
	opsInFlight.Add(-1)
	return t.inFlightAtStart + startedSince
}
