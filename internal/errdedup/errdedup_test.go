package errdedup

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
)

type countHandler struct {
	mu  sync.Mutex
	got []string
}

func (h *countHandler) Handle(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, err.Error())
}

func record(t *testing.T) *countHandler {
	h := &countHandler{}
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(h)
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return h
}

// clock is a time a test moves.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestReportOncePerDistinctError(t *testing.T) {
	h := record(t)
	c := &clock{t: time.Unix(1e9, 0)}
	r := Reporter{Now: c.now}
	a, b := errors.New("a"), errors.New("b")
	for _, err := range []error{a, a, a, b, b, nil, nil, b, a} {
		r.Report(err)
		c.t = c.t.Add(2 * time.Minute) // past the interval each time
	}
	want := []string{"a", "b", "b", "a"}
	if strings.Join(h.got, ",") != strings.Join(want, ",") {
		t.Fatalf("reported %v, want %v", h.got, want)
	}
}

// TestRateLimitedByKind: errors whose text varies on every sample, or that
// flap with recoveries, and panics every sample, 10 s apart for about 3
// hours: at most one a minute at first, backing off, each report saying
// how many were held back.
func TestRateLimitedByKind(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  func(i int) error
	}{
		{"varying text", func(i int) error { return fmt.Errorf("read: offset %d", i) }},
		{"flapping", func(i int) error {
			if i%2 == 1 {
				return nil
			}
			return errors.New("read memory.current: no such file")
		}},
		{"panics", func(i int) error { return fmt.Errorf("recovered from panic: sampler %d", i) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := record(t)
			c := &clock{t: time.Unix(1e9, 0)}
			r := Reporter{Now: c.now}
			for i := range 1001 {
				r.Report(tt.err(i))
				c.t = c.t.Add(10 * time.Second)
			}
			// 2h47m: reports at 0, 1, 3, 7, 15, 31, 63 and 127 minutes.
			if n := len(h.got); n < 2 || n > 10 {
				t.Errorf("%d reports of 1001 errors in 2h47m, want a handful: %v", n, h.got)
			}
			if len(h.got) > 1 && !strings.Contains(h.got[1], "more errors of this kind held back") {
				t.Errorf("second report %q does not say how many were held back", h.got[1])
			}
		})
	}
}

// TestQuietSpellResetsTheInterval: after errors stop for a while, the
// next one is reported at once.
func TestQuietSpellResetsTheInterval(t *testing.T) {
	h := record(t)
	c := &clock{t: time.Unix(1e9, 0)}
	r := Reporter{Now: c.now}
	for i := range 100 {
		r.Report(fmt.Errorf("e%d", i))
		c.t = c.t.Add(10 * time.Second)
	}
	before := len(h.got)
	r.Report(nil)
	c.t = c.t.Add(3 * time.Hour)
	r.Report(errors.New("new trouble"))
	if len(h.got) != before+1 || !strings.HasPrefix(h.got[len(h.got)-1], "new trouble") {
		t.Errorf("after 3 quiet hours: %v, want the new error reported at once", h.got[before:])
	}
}
