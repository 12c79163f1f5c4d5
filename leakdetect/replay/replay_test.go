package replay

import (
	"strings"
	"testing"
	"time"

	"github.com/memwatch/memwatch/leakdetect"
)

func readAll(t *testing.T, in string) ([]leakdetect.Sample, error) {
	t.Helper()
	var out []leakdetect.Sample
	err := Read(strings.NewReader(in), func(s leakdetect.Sample) error {
		out = append(out, s)
		return nil
	})
	return out, err
}

func TestRead(t *testing.T) {
	in := "Time,RSS,Heap_InUse,goroutines,other\n" +
		"2026-01-05T00:00:00Z,1000,600,12,x\n" +
		"1767571210.5,1100,,13,y\n"
	got, err := readAll(t, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []leakdetect.Sample{
		{Time: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), RSS: 1000, HeapLive: 600, Goroutines: 12},
		{Time: time.Unix(1767571210, 5e8).UTC(), RSS: 1100, Goroutines: 13},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || got[i].RSS != want[i].RSS || got[i].HeapLive != want[i].HeapLive || got[i].Goroutines != want[i].Goroutines {
			t.Errorf("sample %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestReadByteOrderMark: a header behind a UTF-8 byte order mark (as
// spreadsheet programs write CSV) reads as without.
func TestReadByteOrderMark(t *testing.T) {
	got, err := readAll(t, "\ufefftime,rss\n1764547200,100\n1764547200,100\n")
	if err != nil || len(got) != 2 || got[0].RSS != 100 {
		t.Errorf("got %v, %v; want two samples", got, err)
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "empty input"},
		{"\ufefftime,rss\n", "a header and no rows"}, // the mark is skipped, the header read
		{"rss,heap_live\n1,2\n", "no time column"},
		{"time,other\n1,2\n", "none of heap_live, rss or goroutines"},
		{"time,rss\n1,100\n2,-5\n", `line 3: rss "-5"`},
		{"time,rss\n1,100\nyesterday,5\n", `line 3: time "yesterday"`},
		{"time,rss\n1,100\n2,NaN\n", `line 3: rss "NaN"`},
		{"time,heap_live\n1e300,1\n", `line 2: time "1e300"`},
		{"time,heap_live\n-5,1\n", `line 2: time "-5": want a time from 1970 to 2200`},
		{"time,goroutines\n0001-01-01T0:00:00Z,3\n", `line 2: time "0001-01-01T0:00:00Z": want a time from 1970 to 2200`},
		{"time,rss\n2200-01-01T00:00:00Z,3\n", `line 2: time "2200-01-01T00:00:00Z"`},
		{"time,rss\n1,\"unterminated\n", "replay:"},
		{"time,heap_live\n1764547200,1000,5\n", "line 2: 3 fields, want 2 as the header has"},
		{"time,heap_live,rss\n1764547200,1000,5\n1764547210,1000\n", "line 3: 2 fields, want 3"},
		{"time,heap_live\n", "a header and no rows"},
		{"time,rss\n1764547200,100\n1764547210,100\n1764547205,100\n", "line 4: time 2025-12-01T00:00:05Z is before the row above's 2025-12-01T00:00:10Z"},
		{"time,rss\n1," + strings.Repeat("9x", 5<<20) + "\n", `line 2: rss "9x9x9x`},
	} {
		_, err := readAll(t, tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Read(%.40q) error %.200v, want one containing %q", tt.in, err, tt.want)
		} else if len(err.Error()) > 200 {
			t.Errorf("Read(%.40q) error is %d bytes long: want a short prefix of the bad value", tt.in, len(err.Error()))
		}
	}
}

// FuzzRead: no input panics, and every sample read has a time from 1970
// to 2200 (not the zero time, which the analyzer skips).
func FuzzRead(f *testing.F) {
	f.Add("time,rss,heap_live,goroutines,limit\n2026-01-05T00:00:00Z,1,2,3,4\n1767571210,5,6,7,8\n")
	f.Add("TIME,heap\n1.5,1e9\n")
	f.Add("time,rss\n,\n")
	f.Fuzz(func(t *testing.T, in string) {
		_ = Read(strings.NewReader(in), func(s leakdetect.Sample) error {
			if s.Time.Before(minTime) || !s.Time.Before(maxTime) {
				t.Errorf("sample at %v (outside 1970 to 2200) from %q", s.Time, in)
			}
			return nil
		})
	})
}
