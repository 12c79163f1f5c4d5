package leakdetectconnector

import (
	"container/list"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/memwatch/memwatch/leakdetect"
)

// stream is one analyzed series: its analyzer and when it was last seen.
type stream struct {
	key      string // the stream's identity (see streamKey)
	analyzer *leakdetect.Analyzer
	seen     time.Time         // arrival of its newest point, by the connector's clock
	last     time.Time         // the newest point's own time
	start    pcommon.Timestamp // the first point's time since tracked: the findings count's start
	found    []reasonCount     // findings since tracked, by reason
	elem     *list.Element
}

// streams holds the analyzed streams, bounded: the least recently seen
// first in line for eviction, and any silent past the idle timeout
// dropped.
type streams struct {
	byKey map[string]*stream
	lru   *list.List // of *stream, the most recently seen at the front
	max   int
	idle  time.Duration
	opts  []leakdetect.AnalyzerOption

	evicted, dropped int64 // so far

	// gone are the identities removed since takeGone, kept only when
	// the streams are saved (their saved entries are then deleted).
	gone      []string
	trackGone bool
}

func newStreams(max int, idle time.Duration, opts []leakdetect.AnalyzerOption) *streams {
	return &streams{byKey: map[string]*stream{}, lru: list.New(), max: max, idle: idle, opts: opts}
}

// get returns key's stream, made if new, and marks it seen at now. A new
// stream beyond the bound evicts the least recently seen.
func (s *streams) get(key string, now time.Time) (*stream, error) {
	if st, ok := s.byKey[key]; ok {
		st.seen = now
		s.lru.MoveToFront(st.elem)
		return st, nil
	}
	a, err := s.newAnalyzer()
	if err != nil {
		return nil, err
	}
	st := &stream{key: key, analyzer: a}
	s.put(st, now)
	return st, nil
}

// newAnalyzer makes a stream's analyzer with the connector's options.
func (s *streams) newAnalyzer() (*leakdetect.Analyzer, error) {
	return leakdetect.NewAnalyzer(s.opts...)
}

// put adds a stream seen at now, evicting the least recently seen beyond
// the bound.
func (s *streams) put(st *stream, now time.Time) {
	if old, ok := s.byKey[st.key]; ok {
		s.remove(old)
	}
	for len(s.byKey) >= s.max {
		s.remove(s.lru.Back().Value.(*stream))
		s.evicted++
	}
	st.seen = now
	st.elem = s.lru.PushFront(st)
	s.byKey[st.key] = st
}

// takeGone returns the identities removed since the last call.
func (s *streams) takeGone() []string {
	g := s.gone
	s.gone = nil
	return g
}

// dropIdle drops the streams not seen since now less the idle timeout.
func (s *streams) dropIdle(now time.Time) {
	for e := s.lru.Back(); e != nil; e = s.lru.Back() {
		st := e.Value.(*stream)
		if now.Sub(st.seen) <= s.idle {
			return
		}
		s.remove(st)
		s.dropped++
	}
}

func (s *streams) remove(st *stream) {
	s.lru.Remove(st.elem)
	delete(s.byKey, st.key)
	if s.trackGone {
		s.gone = append(s.gone, st.key)
	}
}

func (s *streams) len() int { return len(s.byKey) }
