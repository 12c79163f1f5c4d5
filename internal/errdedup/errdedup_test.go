package errdedup

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/otelerrors"
)

// clock is a time a test moves.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestReportOncePerDistinctError(t *testing.T) {
	h := otelerrors.Record(t)
	c := &clock{t: time.Unix(1e9, 0)}
	r := Reporter{Now: c.now}
	a, b := errors.New("a"), errors.New("b")
	for _, err := range []error{a, a, a, b, b, nil, nil, b, a} {
		r.Report(err)
		c.t = c.t.Add(2 * time.Minute) // past the interval each time
	}
	want := []string{"a", "b", "b", "a"}
	if strings.Join(h.Texts(), ",") != strings.Join(want, ",") {
		t.Fatalf("reported %v, want %v", h.Texts(), want)
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
			h := otelerrors.Record(t)
			c := &clock{t: time.Unix(1e9, 0)}
			r := Reporter{Now: c.now}
			for i := range 1001 {
				r.Report(tt.err(i))
				c.t = c.t.Add(10 * time.Second)
			}
			// 2h47m: reports at 0, 1, 3, 7, 15, 31, 63 and 127 minutes.
			if n := len(h.Texts()); n < 2 || n > 10 {
				t.Errorf("%d reports of 1001 errors in 2h47m, want a handful: %v", n, h.Texts())
			}
			if len(h.Texts()) > 1 && !strings.Contains(h.Texts()[1], "more errors of this kind held back") {
				t.Errorf("second report %q does not say how many were held back", h.Texts()[1])
			}
		})
	}
}

// TestQuietSpellResetsTheInterval: after errors stop for a while, the
// next one is reported at once.
func TestQuietSpellResetsTheInterval(t *testing.T) {
	h := otelerrors.Record(t)
	c := &clock{t: time.Unix(1e9, 0)}
	r := Reporter{Now: c.now}
	for i := range 100 {
		r.Report(fmt.Errorf("e%d", i))
		c.t = c.t.Add(10 * time.Second)
	}
	before := len(h.Texts())
	r.Report(nil)
	c.t = c.t.Add(3 * time.Hour)
	r.Report(errors.New("new trouble"))
	if len(h.Texts()) != before+1 || !strings.HasPrefix(h.Texts()[len(h.Texts())-1], "new trouble") {
		t.Errorf("after 3 quiet hours: %v, want the new error reported at once", h.Texts()[before:])
	}
}
