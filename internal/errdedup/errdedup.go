// Package errdedup passes background errors to otel.Handle once per
// distinct error: a source that fails on every collection or sample
// (a missing cgroup file, say) is reported when it starts failing, when
// its error changes, and again after it recovered and failed anew.
package errdedup

import (
	"sync/atomic"

	"go.opentelemetry.io/otel"
)

// Reporter remembers the last error reported. Its zero value is ready and
// it is safe for concurrent use.
type Reporter struct {
	last atomic.Pointer[string]
}

// Report hands err to otel.Handle unless it is the error reported last;
// a nil err means the source recovered.
func (r *Reporter) Report(err error) {
	if err == nil {
		r.last.Store(nil)
		return
	}
	msg := err.Error()
	if prev := r.last.Swap(&msg); prev != nil && *prev == msg {
		return
	}
	otel.Handle(err)
}
