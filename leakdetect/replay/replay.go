// Package replay reads recorded memory series from CSV for leakdetect's
// Analyzer, so the defaults can be tried on a service's own history. The
// format is a contract: memwatch replay reads it, and so can any tool of
// yours through Read.
//
// The first row names the columns, in any order and case: "time" (RFC 3339,
// or Unix seconds, fractions allowed), then any of "heap_live", "rss",
// "goroutines" and "limit" (bytes; counts for goroutines). A heap-in-use
// column ("heap_inuse", "heap_in_use", "heap") stands for the live heap
// when there is no heap_live column. Other columns are ignored; an empty
// cell reads as 0. A UTF-8 byte order mark before the header is skipped.
//
// Every row has as many fields as the header, and rows are in time order
// (equal times allowed): a row that goes back in time is an error naming
// its line, since a recording out of order is a broken recording, and
// sorting it silently would hide which one. A header without rows is an
// error too.
package replay

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/memwatch/memwatch/internal/quote"
	"github.com/memwatch/memwatch/leakdetect"
)

// column indexes of the fields a Sample takes; -1 when absent.
type columns struct {
	time, heap, rss, goroutines, limit int
}

// Read parses r and calls fn with each row's sample, in file order. It
// stops at the first malformed row with an error naming its line, or at
// the first error fn returns.
func Read(r io.Reader, fn func(leakdetect.Sample) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, to say which line and how
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return errors.New("replay: empty input: want a header row naming time and heap_live, rss or goroutines")
	}
	if err != nil {
		return fmt.Errorf("replay: header: %w", err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	cols, err := parseHeader(header)
	if err != nil {
		return err
	}
	fields := len(header)
	var prev time.Time
	for rows := 0; ; rows++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			if rows == 0 {
				return errors.New("replay: a header and no rows: want at least one row of samples")
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("replay: %w", err) // a csv.ParseError names its line
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != fields {
			return fmt.Errorf("replay: line %d: %d fields, want %d as the header has", line, len(rec), fields)
		}
		s, err := cols.sample(rec)
		if err != nil {
			return fmt.Errorf("replay: line %d: %w", line, err)
		}
		if s.Time.Before(prev) {
			return fmt.Errorf("replay: line %d: time %s is before the row above's %s: want rows in time order", line,
				s.Time.Format(time.RFC3339Nano), prev.Format(time.RFC3339Nano))
		}
		prev = s.Time
		if err := fn(s); err != nil {
			return err
		}
	}
}

func parseHeader(header []string) (columns, error) {
	c := columns{-1, -1, -1, -1, -1}
	inUse := -1
	for i, name := range header {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "time", "timestamp":
			c.time = i
		case "heap_live":
			c.heap = i
		case "heap_inuse", "heap_in_use", "heap":
			inUse = i
		case "rss":
			c.rss = i
		case "goroutines":
			c.goroutines = i
		case "limit":
			c.limit = i
		}
	}
	if c.heap < 0 {
		c.heap = inUse
	}
	if c.time < 0 {
		return c, fmt.Errorf("replay: header %s has no time column", quote.Short(strings.Join(header, ",")))
	}
	if c.heap < 0 && c.rss < 0 && c.goroutines < 0 {
		return c, fmt.Errorf("replay: header %s has none of heap_live, rss or goroutines", quote.Short(strings.Join(header, ",")))
	}
	return c, nil
}

func (c columns) sample(rec []string) (leakdetect.Sample, error) {
	var s leakdetect.Sample
	if c.time >= len(rec) {
		return s, fmt.Errorf("%d fields, want a time in field %d", len(rec), c.time+1)
	}
	t, err := parseTime(rec[c.time])
	if err != nil {
		return s, err
	}
	s.Time = t
	for _, f := range []struct {
		col  int
		name string
		dst  *uint64
	}{{c.heap, "heap_live", &s.HeapLive}, {c.rss, "rss", &s.RSS}, {c.limit, "limit", &s.Limit}} {
		if *f.dst, err = field(rec, f.col, f.name); err != nil {
			return s, err
		}
	}
	g, err := field(rec, c.goroutines, "goroutines")
	if g > math.MaxInt64 {
		return s, fmt.Errorf("goroutines %d: too large", g)
	}
	s.Goroutines = int64(g)
	return s, err
}

// field reads a non-negative integer cell; an absent column or empty cell
// is 0. Fractions are accepted and rounded (some exporters write floats).
func field(rec []string, col int, name string) (uint64, error) {
	if col < 0 || col >= len(rec) || strings.TrimSpace(rec[col]) == "" {
		return 0, nil
	}
	v := strings.TrimSpace(rec[col])
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	n, ok := Bytes(f)
	if err != nil || !ok {
		return 0, fmt.Errorf("%s %s: want a non-negative number", name, quote.Short(v))
	}
	return n, nil
}

// Bytes is f, a byte count read from a recording (a CSV cell, a Prometheus
// sample), rounded to what a Sample holds; false when f is NaN, negative,
// infinite or 2^64 or more.
func Bytes(f float64) (uint64, bool) {
	if math.IsNaN(f) || f < 0 || f >= math.MaxUint64 {
		return 0, false
	}
	return uint64(math.Round(f)), true
}

// Count is the same for a goroutine count, which a Sample holds below
// 2^63.
func Count(f float64) (int64, bool) {
	if n, ok := Bytes(f); ok && n <= math.MaxInt64 {
		return int64(n), true
	}
	return 0, false
}

// parseTime reads RFC 3339 or Unix seconds, from 1970 to 2200: a time
// outside is a mistake (year 1 is Go's zero time, which the analyzer
// would skip without a word).
func parseTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		f, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
			return time.Time{}, fmt.Errorf("time %s: want RFC 3339 or Unix seconds", quote.Short(v))
		}
		sec, frac := math.Modf(f)
		t = time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC()
	}
	if t.Before(minTime) || !t.Before(maxTime) {
		return time.Time{}, fmt.Errorf("time %s: want a time from 1970 to 2200", quote.Short(v))
	}
	return t, nil
}

var (
	minTime = time.Unix(0, 0)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)
