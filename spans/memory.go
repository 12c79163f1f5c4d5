package spans

import (
	"runtime/metrics"
	"sync"
	"sync/atomic"

	"github.com/memwatch/memwatch/internal/procmem"
	"github.com/memwatch/memwatch/internal/rtmetrics"
)

// The runtime/metrics an operation reads before and after.
const (
	rmHeapLive = iota
	rmHeapAllocs
	rmGCCycles
	rmCount
)

var runtimeMetricNames = [rmCount]string{
	rmHeapLive:   rtmetrics.HeapLive,
	rmHeapAllocs: rtmetrics.HeapAllocs,
	rmGCCycles:   rtmetrics.GCCycles,
}

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
	samples [rmCount]metrics.Sample
}

func (s *sampler) read() memory {
	if s.samples[0].Name == "" {
		for i := range s.samples {
			s.samples[i].Name = runtimeMetricNames[i]
		}
	}
	var m memory
	if r := rssReader(); r != nil {
		if u, err := r.Read(); err == nil {
			m.rss, m.rssOK = u.RSS, true
		}
	}
	metrics.Read(s.samples[:])
	m.heapLive = rtmetrics.Uint(s.samples[rmHeapLive])
	m.heapAllocs = rtmetrics.Uint(s.samples[rmHeapAllocs])
	m.gcCycles = rtmetrics.Uint(s.samples[rmGCCycles])
	return m
}

// rssReader is the process-wide reader of /proc/self/statm, opened on first
// use and kept open. It is nil where RSS cannot be read; operations then
// leave the RSS attributes out.
var rssReader = sync.OnceValue(func() *procmem.Reader {
	r, err := procmem.Open("/")
	if err != nil {
		return nil
	}
	return r
})

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
