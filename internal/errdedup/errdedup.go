// Package errdedup passes background errors to otel.Handle without
// flooding it: a source that fails on every collection or sample (a
// missing cgroup file, say) is reported when it starts failing and when
// its error changes, and errors of one kind (one Reporter) are reported at
// most once per interval however their text varies or however often the
// source flaps between failing and working. The interval starts at a
// minute and doubles, up to an hour, while errors keep being held back;
// the next report says how many were. A quiet spell of twice the
// interval brings it back to a minute.
package errdedup

import (
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
)

// The reporting interval's bounds.
const (
	minInterval = time.Minute
	maxInterval = time.Hour
)

// Reporter reports one kind of error. Its zero value is ready and it is
// safe for concurrent use.
type Reporter struct {
	// Now is the clock; nil means time.Now. Set it before the first
	// Report.
	Now func() time.Time

	mu       sync.Mutex
	last     string    // the error text last seen, "" after a recovery
	lastAt   time.Time // when an error was last handed on
	lastSeen time.Time // when an error was last seen
	interval time.Duration
	held     int // errors held back since lastAt
}

// Report hands err to otel.Handle unless it is the error seen last or one
// was handed on less than the interval ago; a nil err means the source
// recovered.
func (r *Reporter) Report(err error) {
	r.mu.Lock()
	if err == nil {
		r.last = ""
		r.mu.Unlock()
		return
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	msg := err.Error()
	if r.interval == 0 || (!r.lastSeen.IsZero() && now.Sub(r.lastSeen) > 2*r.interval) {
		r.interval = minInterval // first error, or after a quiet spell
	}
	r.lastSeen = now
	if msg == r.last {
		r.mu.Unlock()
		return
	}
	r.last = msg
	if !r.lastAt.IsZero() && now.Sub(r.lastAt) < r.interval {
		r.held++
		r.mu.Unlock()
		return
	}
	if r.held > 0 {
		err = fmt.Errorf("%w (and %d more errors of this kind held back over the last %v)", err, r.held, now.Sub(r.lastAt).Round(time.Second))
		r.interval = min(2*r.interval, maxInterval)
	}
	r.lastAt, r.held = now, 0
	r.mu.Unlock()
	otel.Handle(err)
}
