package leakdetect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/fakeclock"
	"github.com/memwatch/memwatch/internal/testutil/otelerrors"
	"github.com/memwatch/memwatch/internal/testutil/scenario"
	"github.com/memwatch/memwatch/otelmem"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestDetectorReportsASyntheticLeak replays a 60 MB/h heap leak through an
// injected sampler and clock: one finding span with both events, the
// metrics flip, the report is logged.
func TestDetectorReportsASyntheticLeak(t *testing.T) {
	series := scenario.Catalog()[0].Samples(1) // heap 60 MB/h
	sampler := replaying(series)
	var reported []Finding
	h := startHarness(t, WithSampler(sampler), WithOnFinding(func(f Finding) { reported = append(reported, f) }))
	for range series {
		h.clock.Fire(DefaultInterval)
	}
	h.clock.Fire(DefaultReportInterval)
	if err := h.d.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	if len(reported) != 1 || reported[0].Signal != SignalHeapLive {
		t.Errorf("WithOnFinding saw %+v, want the heap_live finding", reported)
	}
	ended := h.spans.Ended()
	if len(ended) != 1 || ended[0].Name() != spanName {
		t.Fatalf("spans %v, want one %s", ended, spanName)
	}
	ev := ended[0].Events()
	if len(ev) != 2 || ev[0].Name != eventLeak || ev[1].Name != eventGC {
		t.Fatalf("events %v, want %s then %s", ev, eventLeak, eventGC)
	}
	a := ev[0].Attributes
	if v, _ := eventAttr(a, attrSignal); v.AsString() != SignalHeapLive {
		t.Errorf("signal %v", v)
	}
	for _, k := range []attribute.Key{attrGrowth, attrRate, attrBaseline, attrCurrent, attrWindow} {
		if v, ok := eventAttr(a, k); !ok || v.AsInt64() <= 0 {
			t.Errorf("%s = %v, want a positive number", k, v)
		}
	}
	if _, ok := eventAttr(a, attrTopSites); !ok {
		t.Errorf("no top allocation sites attribute: %v", a)
	}
	if _, ok := eventAttr(ev[1].Attributes, attrHeapFreed); !ok {
		t.Errorf("GC event lacks %s", attrHeapFreed)
	}

	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			got[m.Name] = true
			if m.Name == MetricFindings {
				pts := m.Data.(metricdata.Sum[int64]).DataPoints
				if len(pts) != 1 || pts[0].Value != 1 {
					t.Errorf("findings counter %+v, want 1", pts)
				}
			}
		}
	}
	// After Shutdown the callback is gone; the counter remains.
	if !got[MetricFindings] || got[MetricSuspected] {
		t.Errorf("metrics after Shutdown: %v", got)
	}
	logs := h.logs.String()
	for _, want := range []string{"Potential memory leak detected! heap_live grew", "MEMORY USAGE REPORT", "Forced GC after leak finding", "Periodic check"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}
}

// TestSuspectedGauge reads the alerting gauges while the detector runs.
func TestSuspectedGauge(t *testing.T) {
	c := scenario.Catalog()[0]
	c.Limit = 2000 * scenario.MB
	series := c.Samples(2)
	i := 0
	h := startHarness(t, WithSampler(func() (Sample, error) {
		s := series[min(i, len(series)-1)]
		i++
		return Sample(s), nil
	}))
	for range series {
		h.clock.Fire(DefaultInterval)
	}
	h.clock.Fire(DefaultInterval) // the last sample is handled once this is taken
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					v, _ := p.Attributes.Value(attrSignal)
					values[m.Name+"/"+v.AsString()] = float64(p.Value)
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					v, _ := p.Attributes.Value(attrSignal)
					values[m.Name+"/"+v.AsString()] = p.Value
				}
			}
		}
	}
	if values[MetricSuspected+"/heap_live"] != 1 || values[MetricSuspected+"/goroutines"] != 0 {
		t.Errorf("suspected gauges %v", values)
	}
	if r := values[MetricGrowthRate+"/heap_live"]; r < 30e6 || r > 90e6 {
		t.Errorf("heap growth rate %v, want about 60 MB/h", r)
	}
	// RSS 1.4x a heap leaking 60 MB/h: 84 MB/h towards 2 GB from about
	// 330 MB, some 20 hours.
	if left := values[MetricTimeToLimit+"/heap_live"]; left < 15*3600 || left > 25*3600 {
		t.Errorf("time to limit %v s, want about 20 hours", left)
	}
	if _, ok := values[MetricTimeToLimit+"/goroutines"]; ok {
		t.Error("a time to limit for goroutines")
	}
}

// leakyCache is the leak under test: it keeps everything it is given.
type leakyCache struct{ entries [][]byte }

//go:noinline
func (c *leakyCache) put(n int) {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	c.entries = append(c.entries, b)
}

// TestRealLeak leaks real memory (8 MiB a step, allocations the heap
// profile always samples) and checks the finding names the leaking
// function among the grown allocation sites, and the forced-GC event. Real
// memory with fake time: the sampler reads the process, the clock is the
// test's. The threshold is set low (48 MiB) so a short test crosses it.
func TestRealLeak(t *testing.T) {
	dir := t.TempDir()
	clock := fakeclock.New(scenario.Start)
	mon := startMonitor(t)
	sampler := func() (Sample, error) {
		s, err := mon.Snapshot()
		return Sample{Time: clock.Advance(10 * time.Second), HeapLive: s.HeapLive, RSS: s.RSS, Goroutines: int64(s.Goroutines)}, err
	}
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())
	var logs bytes.Buffer
	var lmu sync.Mutex
	d, err := Start(withClock(clock), WithSampler(sampler), WithTracerProvider(tp),
		WithLogger(slog.New(slog.NewTextHandler(lockedWriter{&lmu, &logs}, nil))),
		WithThreshold(48<<20), WithProfileDir(dir), WithMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(context.Background())

	cache := &leakyCache{}
	// An hour of flat memory: warm-up ends, the baseline profile is taken.
	for range 360 {
		clock.Fire(DefaultInterval)
	}
	// Then the leak: 8 MiB every 5 minutes for an hour and a half, with the
	// GCs a busy service would run.
	for step := range 540 {
		if step%30 == 0 {
			cache.put(8 << 20)
			runtime.GC()
		}
		clock.Fire(DefaultInterval)
		if len(spans.Ended()) > 0 {
			break
		}
	}
	runtime.GC()
	runtime.GC()
	for range 10 {
		clock.Fire(DefaultInterval)
	}
	if err := d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(cache)

	ended := spans.Ended()
	if len(ended) == 0 {
		t.Fatalf("no finding after leaking %d MiB; logs:\n%s", 8*len(cache.entries), logs.String())
	}
	ev := ended[0].Events()
	if len(ev) != 2 || ev[0].Name != eventLeak || ev[1].Name != eventGC {
		t.Fatalf("events %v", ev)
	}
	grown, _ := eventAttr(ev[0].Attributes, attrGrownSites)
	if len(grown.AsStringSlice()) == 0 || !strings.Contains(grown.AsStringSlice()[0], "leakyCache).put") {
		t.Errorf("grown sites %v, want leakyCache.put first; event %v", grown.AsStringSlice(), ev[0].Attributes)
	}
	for _, k := range []attribute.Key{attrProfileBase, attrProfileNow} {
		v, ok := eventAttr(ev[0].Attributes, k)
		if !ok {
			t.Errorf("event does not name %s", k)
			continue
		}
		fi, err := os.Stat(v.AsString())
		if err != nil || fi.Mode().Perm() != 0o600 || filepath.Dir(v.AsString()) != dir {
			t.Errorf("profile %s: %v mode %v", v.AsString(), err, fi.Mode())
		}
	}
	if _, ok := eventAttr(ev[1].Attributes, attrHeapFreed); !ok {
		t.Error("GC event lacks what it freed")
	}
}

func TestGoroutinePileups(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { parked(stop) })
	}
	defer func() { close(stop); wg.Wait() }()
	// Wait until all 50 are parked; the scheduler decides when.
	var stacks []string
	for range 10000 {
		var err error
		if stacks, err = goroutinePileups(3); err != nil {
			t.Fatal(err)
		}
		if len(stacks) > 0 && strings.HasPrefix(stacks[0], "50 × ") && strings.Contains(stacks[0], "parked") {
			break
		}
		runtime.Gosched()
	}
	if len(stacks) == 0 || !strings.HasPrefix(stacks[0], "50 × ") || !strings.Contains(stacks[0], "parked") {
		t.Errorf("pile-ups %v, want 50 goroutines in parked first", stacks)
	}
}

//go:noinline
func parked(stop chan struct{}) { <-stop }

func TestStartOptionsAndShutdown(t *testing.T) {
	for _, tt := range []struct {
		opt  Option
		want string
	}{
		{WithInterval(0), "WithInterval(0s): must be positive"},
		{WithReportInterval(-1), "WithReportInterval(-1ns)"},
		{WithTopN(0), "WithTopN(0)"},
		{WithMonitor(nil), "WithMonitor: monitor is nil"},
		{WithLogger(nil), "WithLogger: logger is nil"},
		{WithProfileDir(""), `WithProfileDir("")`},
		{WithMaxProfiles(-2), "WithMaxProfiles(-2)"},
		{WithSampler(nil), "WithSampler: sampler is nil"},
		{WithThreshold(-5), "WithThreshold(-5)"},
		{WithOnFinding(nil), "WithOnFinding: function is nil"},
	} {
		if d, err := Start(tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			if err == nil {
				_ = d.Shutdown(context.Background())
			}
			t.Errorf("Start error %v, want one containing %q", err, tt.want)
		}
	}
	d, err := Start(WithInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = d.Shutdown(context.Background()) })
	}
	wg.Wait()
	var ok int
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, ErrShutdown) {
			t.Errorf("Shutdown: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d Shutdown calls succeeded, want 1", ok)
	}
}

// TestSamplerPanicDoesNotEscape: a panic in the detector's work is
// recovered and the detector keeps going.
func TestSamplerPanicDoesNotEscape(t *testing.T) {
	calls := 0
	h := startHarness(t, WithSampler(func() (Sample, error) {
		calls++
		if calls == 1 {
			panic("sampler broke")
		}
		return Sample{HeapLive: 1, RSS: 1, Goroutines: 1}, nil
	}))
	h.clock.Fire(DefaultInterval)
	h.clock.Fire(DefaultInterval)
	h.clock.Fire(DefaultInterval)
	if err := h.d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls < 2 {
		t.Errorf("sampler called %d times; the detector stopped after the panic", calls)
	}
}

// TestReplayedSamplesGetABaseline: samples from a year ago (a replay
// through WithSampler) still end warm-up and get the baseline heap profile
// that a finding's grown sites are compared against.
func TestReplayedSamplesGetABaseline(t *testing.T) {
	series := scenario.Catalog()[0].Samples(1)
	i := 0
	h := startHarness(t, WithSampler(func() (Sample, error) {
		s := Sample(series[min(i, len(series)-1)])
		i++
		s.Time = s.Time.AddDate(-1, 0, 0)
		return s, nil
	}))
	for range series {
		h.clock.Fire(DefaultInterval)
	}
	h.clock.Fire(DefaultInterval)
	if err := h.d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ended := h.spans.Ended()
	if len(ended) == 0 {
		t.Fatal("no finding")
	}
	a := ended[0].Events()[0].Attributes
	if _, ok := eventAttr(a, attrGrownSites); !ok {
		msg, _ := eventAttr(a, attrProfileError)
		t.Errorf("no grown sites on a replayed finding: %v", msg.AsString())
	}
}

// TestSampleErrorsReportedOnce: a source that fails on every sample is
// reported to otel.Handle once, not 8,640 times a day.
func TestSampleErrorsReportedOnce(t *testing.T) {
	handler := otelerrors.Record(t)
	n := 0
	h := startHarness(t, WithSampler(func() (Sample, error) {
		n++
		return Sample{Time: scenario.Start.Add(time.Duration(n) * 10 * time.Second), RSS: 100 << 20}, errors.New("read memory.current: no such file")
	}))
	for range 100 {
		h.clock.Fire(DefaultInterval)
	}
	if err := h.d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := handler.Texts(); len(got) != 1 {
		t.Errorf("otel.Handle called %d times for 100 failed samples, want once: %v", len(got), got)
	}
}

// TestBackgroundErrorsRateLimited: a sampler whose error text changes
// every sample, one that flaps between failing and working, and one that
// panics every time, each over 500 samples 10 s apart: a handful of
// reports each, not one per sample.
func TestBackgroundErrorsRateLimited(t *testing.T) {
	for _, tt := range []struct {
		name    string
		sampler func(n int) (Sample, error)
	}{
		{"varying", func(n int) (Sample, error) {
			return Sample{RSS: 100 << 20}, fmt.Errorf("read statm: offset %d", n)
		}},
		{"flapping", func(n int) (Sample, error) {
			if n%2 == 0 {
				return Sample{RSS: 100 << 20}, nil
			}
			return Sample{RSS: 100 << 20}, errors.New("read memory.current: no such file")
		}},
		{"panicking", func(n int) (Sample, error) { panic(fmt.Sprintf("sampler broke at %d", n)) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			handler := otelerrors.Record(t)
			n := 0
			var h *harness
			h = startHarness(t, WithSampler(func() (Sample, error) {
				n++
				s, err := tt.sampler(n)
				s.Time = h.clock.Now()
				return s, err
			}))
			for range 500 {
				h.clock.Advance(DefaultInterval)
				h.clock.Fire(DefaultInterval)
			}
			if err := h.d.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := handler.Texts(); len(got) == 0 || len(got) > 10 {
				t.Errorf("otel.Handle called %d times for 500 bad samples, want a handful: %v", len(got), got)
			}
		})
	}
}

func TestStartRejectsAShutDownMonitor(t *testing.T) {
	mon, err := otelmem.Start(otelmem.WithMeterProvider(metricnoop.NewMeterProvider()), otelmem.WithoutRuntimeInstrumentation())
	if err != nil {
		t.Fatal(err)
	}
	mon.Shutdown(context.Background())
	if d, err := Start(WithMonitor(mon)); err == nil || !strings.Contains(err.Error(), "shut down") {
		if d != nil {
			d.Shutdown(context.Background())
		}
		t.Errorf("Start with a shut-down monitor: %v, want an error", err)
	}
}

// held keeps holdAtKnownSite's memory alive.
var held [][]byte

// holdAtKnownSite holds 16 MiB allocated here; 4 MiB objects are all in the
// heap profile, whatever its sampling rate.
func holdAtKnownSite() {
	for range 4 {
		held = append(held, make([]byte, 4<<20))
	}
}

// logSink records what a LoggerProvider exports.
type logSink struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (s *logSink) Export(_ context.Context, rs []sdklog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		s.records = append(s.records, r.Clone())
	}
	return nil
}

func (s *logSink) Shutdown(context.Context) error { return nil }

func (s *logSink) ForceFlush(context.Context) error { return nil }

// TestEventsAsLogs: with WithEventsAsLogs the finding's two events are log
// records with their event names, attributes and the finding span's trace
// and span IDs, and the span carries no events: nothing is emitted twice.
func TestEventsAsLogs(t *testing.T) {
	sink := &logSink{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(sink)))
	t.Cleanup(func() { _ = lp.Shutdown(context.Background()) })
	series := scenario.Catalog()[0].Samples(1) // heap 60 MB/h
	// The top sites come from this process's heap profile, which can be
	// empty this early in a test binary: hold memory at a known site and let
	// two cycles publish it.
	holdAtKnownSite()
	t.Cleanup(func() { held = nil })
	runtime.GC()
	runtime.GC()
	h := startHarness(t, WithSampler(replaying(series)), WithEventsAsLogs(), WithLoggerProvider(lp))
	for range series {
		h.clock.Fire(DefaultInterval)
	}
	if err := h.d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ended := h.spans.Ended()
	if len(ended) != 1 || len(ended[0].Events()) != 0 {
		t.Fatalf("spans %v: want one finding span without span events", ended)
	}
	sc := ended[0].SpanContext()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.records) != 2 {
		t.Fatalf("%d log records, want 2", len(sink.records))
	}
	for i, name := range []string{eventLeak, eventGC} {
		r := sink.records[i]
		if r.EventName() != name || r.TraceID() != sc.TraceID() || r.SpanID() != sc.SpanID() {
			t.Errorf("record %d: event %q trace %s span %s; want %q in span %s/%s", i, r.EventName(), r.TraceID(), r.SpanID(), name, sc.TraceID(), sc.SpanID())
		}
		if r.Body().AsString() == "" || r.Severity() == 0 {
			t.Errorf("record %q has no body or severity", name)
		}
	}
	attrs := map[attribute.Key]attribute.Value{}
	sink.records[0].WalkAttributes(func(kv attribute.KeyValue) bool { attrs[kv.Key] = kv.Value; return true })
	if attrs[attrSignal].AsString() != SignalHeapLive || attrs[attrGrowth].AsInt64() <= 0 {
		t.Errorf("leak record attributes %v", attrs)
	}
	if !slices.ContainsFunc(attrs[attrTopSites].AsStringSlice(), func(s string) bool { return strings.Contains(s, "holdAtKnownSite") }) {
		t.Errorf("top sites %v lack the 16 MiB held at holdAtKnownSite", attrs[attrTopSites].AsStringSlice())
	}
	if _, ok := attrs[attrHeapFreed]; ok {
		t.Errorf("the leak record carries the GC's attributes")
	}
}
