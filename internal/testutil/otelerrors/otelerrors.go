// Package otelerrors records what reaches otel.Handle during a test.
package otelerrors

import (
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
)

// Recorder is the global error handler while a test runs.
type Recorder struct {
	mu   sync.Mutex
	errs []error
}

// Record installs a Recorder as otel's error handler until t ends.
func Record(t testing.TB) *Recorder {
	r := &Recorder{}
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(r)
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return r
}

// Handle records err.
func (r *Recorder) Handle(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

// All is every error recorded so far, in order.
func (r *Recorder) All() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// Texts is every error's text recorded so far, in order.
func (r *Recorder) Texts() []string {
	var out []string
	for _, err := range r.All() {
		out = append(out, err.Error())
	}
	return out
}
