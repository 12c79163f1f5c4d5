package memread

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
)

// TestNamesExist: every name is one this Go's runtime/metrics supports,
// with the kind Read expects, so none reads as a silent 0.
func TestNamesExist(t *testing.T) {
	samples := make([]metrics.Sample, len(Names))
	for i, n := range Names {
		samples[i].Name = n
	}
	metrics.Read(samples)
	for i, s := range samples {
		want := metrics.KindUint64
		if i == gcCPU || i == totalCPU {
			want = metrics.KindFloat64
		}
		if s.Value.Kind() != want {
			t.Errorf("%s: kind %v, want %v", s.Name, s.Value.Kind(), want)
		}
	}
}

// TestReadFollowsTheHeap: a kept allocation shows in the live heap after a
// GC, the allocation and free counters only grow, and reading again
// allocates nothing.
func TestReadFollowsTheHeap(t *testing.T) {
	var r Runtime
	runtime.GC()
	before := r.Read()
	keep := make([]byte, 32<<20)
	for i := range keep {
		keep[i] = 1
	}
	runtime.GC()
	after := r.Read()
	runtime.KeepAlive(keep)
	if d := int64(after.HeapLive) - int64(before.HeapLive); d < 30<<20 {
		t.Errorf("live heap grew %d bytes, want about 32 MiB", d)
	}
	if after.TotalCPU <= 0 || after.GCCPU < before.GCCPU || after.GCCPU > after.TotalCPU {
		t.Errorf("CPU classes: GC %v of %v s", after.GCCPU, after.TotalCPU)
	}
	if after.HeapAllocs < before.HeapAllocs+32<<20 || after.HeapFrees < before.HeapFrees || after.GCCycles <= before.GCCycles || after.Goroutines == 0 {
		t.Errorf("counters did not follow: before %+v after %+v", before, after)
	}
	if n := testing.AllocsPerRun(100, func() { r.Read() }); n != 0 {
		t.Errorf("Read allocates %v times", n)
	}
}

func TestIsRuntime(t *testing.T) {
	for fn, want := range map[string]bool{
		"runtime.mallocgc":                         true,
		"internal/runtime/maps.newarray":           true,
		"runtime/pprof.writeHeap":                  false,
		"main.leak":                                false,
		"github.com/x/runtime.Thing":               false,
		"github.com/memwatch/memwatch/spans.Track": false,
	} {
		if got := IsRuntime(fn); got != want {
			t.Errorf("IsRuntime(%q) = %v, want %v", fn, got, want)
		}
	}
}

var held [][]byte

//go:noinline
func holdAtKnownSite() {
	for range 4 { // 4 MiB objects are all in the profile, whatever its sampling
		held = append(held, make([]byte, 4<<20))
	}
}

// TestHeapSitesFindTheAllocator: 16 MiB held at one function is charged to
// that function, scaled to about its real size.
func TestHeapSitesFindTheAllocator(t *testing.T) {
	holdAtKnownSite()
	runtime.GC()
	runtime.GC() // the profile shows the heap as of the last completed cycle
	var got Usage
	for s, u := range HeapSites() {
		if strings.HasSuffix(s.Function, ".holdAtKnownSite") {
			got = u
			if !strings.HasSuffix(s.File, "memread_test.go") || s.Line == 0 {
				t.Errorf("site %v", s)
			}
		}
	}
	if got.Bytes < 14<<20 || got.Bytes > 18<<20 {
		t.Errorf("holdAtKnownSite holds %d bytes in the profile, want about 16 MiB", got.Bytes)
	}
	held = nil
}

func TestCheckpointLine(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	Checkpoint{Label: "After DB pool init", RSS: 85 << 20, HeapLive: 1 << 20, HasBaseline: true, Delta: 3 << 20, Err: errors.New("statm: boom")}.Log(context.Background(), l)
	Checkpoint{Label: "no rss", HeapLive: 1}.Log(context.Background(), l)
	out := buf.String()
	for _, want := range []string{
		`msg="memory 85.00 MiB (delta +3.00 MiB) - After DB pool init"`, "rss_bytes=89128960", "delta_bytes=3145728", `error="statm: boom"`,
		`msg="memory checkpoint - no rss"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); strings.Contains(lines[1], "delta") {
		t.Errorf("a line without baseline has a delta:\n%s", out)
	}
	// Before the first GC cycle there is no live heap to report.
	buf.Reset()
	Checkpoint{Label: "startup", RSS: 5 << 20, HasBaseline: true}.Log(context.Background(), l)
	if strings.Contains(buf.String(), "heap_live") {
		t.Errorf("a line before the first GC reports a live heap:\n%s", buf.String())
	}
}

func TestScaleHeapSample(t *testing.T) {
	tests := []struct {
		count, size int64
		rate        int
		wantCount   int64
		wantSize    int64
	}{
		{0, 0, 512 * 1024, 0, 0},
		{10, 1000, 1, 10, 1000},                        // MemProfileRate 1 records everything
		{1, 64 << 20, 512 * 1024, 1, 64 << 20},         // huge objects: scale ~1
		{100, 100 * 512, 512 * 1024, 102450, 52454404}, // small objects: 1/(1-e^-1/1024) ≈ 1024.5
	}
	for _, tt := range tests {
		c, s := scaleHeapSample(tt.count, tt.size, tt.rate)
		if math.Abs(float64(c-tt.wantCount)) > float64(tt.wantCount)/1000+1 || math.Abs(float64(s-tt.wantSize)) > float64(tt.wantSize)/1000+1 {
			t.Errorf("scaleHeapSample(%d, %d, %d) = %d, %d; want about %d, %d", tt.count, tt.size, tt.rate, c, s, tt.wantCount, tt.wantSize)
		}
	}
}
