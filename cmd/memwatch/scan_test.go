package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// fakeProm is an in-memory Prometheus query API: each series a function of
// time, sampled at the query's step.
type fakeProm struct {
	series  map[string]fakeSeries // by exact selector
	queries atomic.Int64

	mu       sync.Mutex
	earliest time.Time // the earliest start of a range query
}

type fakeSeries struct {
	labels model.LabelSet
	value  func(t time.Time) (float64, bool)
}

func (f *fakeProm) add(labels model.LabelSet, value func(time.Time) (float64, bool)) {
	if f.series == nil {
		f.series = map[string]fakeSeries{}
	}
	f.series[exact(labels)] = fakeSeries{labels, value}
}

func (f *fakeProm) Buildinfo(context.Context) (v1.BuildinfoResult, error) {
	return v1.BuildinfoResult{Version: "3.16.0"}, nil
}

// Series supports what discover asks: name, or name{job="x"}.
func (f *fakeProm) Series(_ context.Context, matches []string, _, _ time.Time, _ ...v1.Option) ([]model.LabelSet, v1.Warnings, v1.Infos, error) {
	name, sel, _ := strings.Cut(matches[0], "{")
	var job string
	if sel != "" {
		job = strings.Trim(strings.TrimPrefix(strings.TrimSuffix(sel, "}"), "job="), `"`)
	}
	var out []model.LabelSet
	for _, s := range f.series {
		if string(s.labels[model.MetricNameLabel]) == name && (job == "" || string(s.labels["job"]) == job) {
			out = append(out, s.labels)
		}
	}
	return out, nil, nil, nil
}

// QueryRange answers a selector of equality matchers as Prometheus does:
// every series whose labels include the matchers' (a superset matches).
func (f *fakeProm) QueryRange(_ context.Context, query string, r v1.Range, _ ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	f.queries.Add(1)
	f.mu.Lock()
	if f.earliest.IsZero() || r.Start.Before(f.earliest) {
		f.earliest = r.Start
	}
	f.mu.Unlock()
	if n := r.End.Sub(r.Start)/r.Step + 1; n > 11000 {
		return nil, nil, nil, errors.New("exceeded maximum resolution of 11,000 points per timeseries")
	}
	want, err := parseMatchers(query)
	if err != nil {
		return nil, nil, nil, err
	}
	// Prometheus orders series by label set, a set before its supersets.
	keys := slices.SortedFunc(maps.Keys(f.series), func(a, b string) int {
		return cmp.Or(cmp.Compare(len(f.series[a].labels), len(f.series[b].labels)), strings.Compare(a, b))
	})
	var m model.Matrix
	for _, key := range keys {
		s := f.series[key]
		if !includes(s.labels, want) {
			continue
		}
		stream := &model.SampleStream{Metric: model.Metric(s.labels)}
		for t := r.Start; !t.After(r.End); t = t.Add(r.Step) {
			if v, ok := s.value(t); ok {
				stream.Values = append(stream.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(t.UnixNano()), Value: model.SampleValue(v)})
			}
		}
		m = append(m, stream)
	}
	return m, nil, nil, nil
}

// parseMatchers reads the selectors exact writes: {a="x",b="y"}.
func parseMatchers(q string) (model.LabelSet, error) {
	rest, ok := strings.CutPrefix(q, "{")
	if !ok {
		return nil, fmt.Errorf("fake Prometheus: selector %q", q)
	}
	out := model.LabelSet{}
	for rest != "}" && rest != "" {
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			return nil, fmt.Errorf("fake Prometheus: selector %q", q)
		}
		quoted, err := strconv.QuotedPrefix(after)
		if err != nil {
			return nil, fmt.Errorf("fake Prometheus: selector %q: %w", q, err)
		}
		v, _ := strconv.Unquote(quoted)
		out[model.LabelName(name)] = model.LabelValue(v)
		rest = strings.TrimPrefix(after[len(quoted):], ",")
	}
	return out, nil
}

func includes(have, want model.LabelSet) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

var scanEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func ls(name, job, instance string, extra ...string) model.LabelSet {
	l := model.LabelSet{model.MetricNameLabel: model.LabelValue(name), "job": model.LabelValue(job), "instance": model.LabelValue(instance)}
	for i := 0; i+1 < len(extra); i += 2 {
		l[model.LabelName(extra[i])] = model.LabelValue(extra[i+1])
	}
	return l
}

// memory is a heap of base bytes with 2% noise, growing perHour from
// leakStart (hours before scanEnd).
func memory(seed uint64, base, perHour float64, leakStart time.Duration) func(time.Time) (float64, bool) {
	return func(t time.Time) (float64, bool) {
		r := rand.New(rand.NewPCG(seed, uint64(t.Unix())))
		v := base * (1 + 0.02*r.NormFloat64())
		if since := t.Sub(scanEnd.Add(-leakStart)); since > 0 {
			v += perHour * since.Hours()
		}
		return v, true
	}
}

func constant(v float64) func(time.Time) (float64, bool) {
	return func(time.Time) (float64, bool) { return v, true }
}

func runScan(t *testing.T, p promAPI, cfg scanConfig) (int, []row, string, error) {
	t.Helper()
	if cfg.rng == 0 {
		cfg.rng = 3 * 24 * time.Hour
	}
	if cfg.step == 0 {
		cfg.step = time.Minute
	}
	cfg.parallel, cfg.end, cfg.asJSON = 3, scanEnd, true
	var out, errOut bytes.Buffer
	status, err := scan(context.Background(), p, cfg, &out, &errOut)
	var rows []row
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		var r row
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("--json line %q: %v", line, err)
		}
		rows = append(rows, r)
	}
	return status, rows, errOut.String(), err
}

// TestScanFlagsTheLeakingInstances: memwatch's names, client_golang's and
// cAdvisor's; a heap leak, an RSS leak and flat instances. Only the leaks
// are flagged, with their signals, and the exit status is 1.
func TestScanFlagsTheLeakingInstances(t *testing.T) {
	var p fakeProm
	// memwatch names: api-1 leaks heap 20 MB/h from 24 h before the end.
	p.add(ls("memwatch_heap_live_bytes", "api", "api-1"), memory(1, 200e6, 20e6, 24*time.Hour))
	p.add(ls("process_memory_usage_bytes", "api", "api-1"), memory(2, 300e6, 0, 0))
	p.add(ls("go_goroutine_count", "api", "api-1"), constant(200))
	p.add(ls("memwatch_memory_limit_bytes", "api", "api-1", "memwatch_memory_limit_source", "cgroup"), constant(2e9))
	p.add(ls("memwatch_memory_limit_bytes", "api", "api-1", "memwatch_memory_limit_source", "cgroup_high"), constant(1.5e9))
	// api-2 flat, with both memwatch's and client_golang's names: memwatch's win.
	p.add(ls("memwatch_heap_live_bytes", "api", "api-2"), memory(3, 200e6, 0, 0))
	p.add(ls("go_memstats_heap_inuse_bytes", "api", "api-2"), memory(4, 200e6, 50e6, 24*time.Hour))
	p.add(ls("process_memory_usage_bytes", "api", "api-2"), memory(5, 300e6, 0, 0))
	// client_golang only: web-1 leaks RSS 30 MB/h, web-2 is flat.
	p.add(ls("process_resident_memory_bytes", "web", "web-1"), memory(6, 300e6, 30e6, 24*time.Hour))
	p.add(ls("go_memstats_heap_inuse_bytes", "web", "web-1"), memory(7, 100e6, 0, 0))
	p.add(ls("go_goroutines", "web", "web-1"), constant(50))
	p.add(ls("process_resident_memory_bytes", "web", "web-2"), memory(8, 300e6, 0, 0))
	// cAdvisor: a flat container. Its pod's cgroup, the pod's pause
	// container and the node's root cgroup are not instances, though
	// they grow (the node's holds every pod's memory).
	p.add(ls("container_memory_working_set_bytes", "cadvisor", "node-1", "pod", "db-0", "container", "db"), memory(9, 1e9, 0, 0))
	p.add(ls("container_memory_working_set_bytes", "cadvisor", "node-1", "pod", "db-0", "container", ""), memory(10, 1.1e9, 30e6, 24*time.Hour))
	p.add(ls("container_memory_working_set_bytes", "cadvisor", "node-1", "pod", "db-0", "container", "POD"), memory(11, 1e6, 30e6, 24*time.Hour))
	p.add(ls("container_memory_working_set_bytes", "cadvisor", "node-1", "id", "/"), memory(12, 8e9, 300e6, 24*time.Hour))
	p.add(ls("container_memory_working_set_bytes", "cadvisor", "node-1", "pod", "old-0", "container_name", "web"), memory(13, 1e9, 0, 0))

	status, rows, summary, err := runScan(t, &p, scanConfig{})
	if err != nil || status != exitLeak {
		t.Fatalf("status %d, %v; want 1 (leak found)\n%s", status, err, summary)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Service+"/"+r.Instance] = r.Signal
		if r.FirstSeen.Before(scanEnd.Add(-24*time.Hour)) || r.RatePerHour <= 0 {
			t.Errorf("finding %+v before its leak began", r)
		}
	}
	want := map[string]string{"api/api-1": "heap_live", "web/web-1": "rss"}
	if len(got) != len(want) || got["api/api-1"] != want["api/api-1"] || got["web/web-1"] != want["web/web-1"] {
		t.Errorf("flagged %v, want %v", got, want)
	}
	for _, r := range rows {
		if r.Instance == "api-1" && (r.TimeToLimitSeconds <= 0 || r.TimeToLimit != 0) {
			t.Errorf("api-1's finding lacks its time to the 2 GB cgroup limit: %+v", r)
		}
	}
	if !strings.Contains(summary, "of 6 instances") {
		t.Errorf("summary %q, want 6 instances (api-1, api-2, web-1, web-2, the two containers)", summary)
	}
}

// TestScanRestarts: a service redeployed a day before the end comes back
// using 300 MB more. Seen as one process that is a step the fixed-threshold
// rule flags (c); a restart, found by a gap (a) or by a counter that reset
// (b), starts the analyzer again and the new level is its new baseline.
func TestScanRestarts(t *testing.T) {
	var p fakeProm
	deploy := scanEnd.Add(-24 * time.Hour)
	level := func(t time.Time) float64 {
		if t.Before(deploy) {
			return 300e6
		}
		return 600e6
	}
	p.add(ls("process_memory_usage_bytes", "svc", "a"), func(t time.Time) (float64, bool) {
		return level(t), t.Before(deploy.Add(-15*time.Minute)) || !t.Before(deploy)
	})
	for _, inst := range []string{"b", "c"} {
		p.add(ls("process_memory_usage_bytes", "svc", inst), func(t time.Time) (float64, bool) { return level(t), true })
	}
	p.add(ls("memwatch_gc_cycles_total", "svc", "b"), func(t time.Time) (float64, bool) {
		if t.Before(deploy) {
			return 1000 + t.Sub(scanEnd.Add(-72*time.Hour)).Minutes(), true
		}
		return t.Sub(deploy).Minutes(), true
	})
	status, rows, summary, err := runScan(t, &p, scanConfig{})
	if err != nil || status != exitLeak {
		t.Fatalf("status %d, %v\n%s", status, err, summary)
	}
	for _, r := range rows {
		if r.Instance != "c" {
			t.Errorf("finding %+v: a restart must start the analyzer again", r)
		}
	}
	if len(rows) == 0 || !strings.Contains(summary, "2 restarts") {
		t.Errorf("findings %+v, summary %q: want c's step flagged, a's gap and b's counter reset counted", rows, summary)
	}
}

// TestScanChunksTheRange: 7 days at 30 s is 20,160 points a series, over
// Prometheus's 11,000: the scan splits the range.
func TestScanChunksTheRange(t *testing.T) {
	var p fakeProm
	p.add(ls("memwatch_heap_live_bytes", "svc", "a"), memory(1, 200e6, 0, 0))
	status, _, summary, err := runScan(t, &p, scanConfig{rng: 7 * 24 * time.Hour, step: 30 * time.Second})
	if err != nil || status != exitClean {
		t.Fatalf("status %d, %v\n%s", status, err, summary)
	}
	if p.queries.Load() < 3 || !strings.Contains(summary, "20161 samples") {
		t.Errorf("%d queries, summary %q: want the range in chunks and every sample once", p.queries.Load(), summary)
	}
}

func TestScanNothingMatches(t *testing.T) {
	var p fakeProm
	p.add(ls("memwatch_heap_live_bytes", "api", "a"), constant(1))
	status, _, _, err := runScan(t, &p, scanConfig{selector: `{job="nope"}`})
	if status != exitError || err == nil || !strings.Contains(err.Error(), `no memory series match {job="nope"}`) {
		t.Errorf("status %d, %v; want 2 and an error saying nothing matched", status, err)
	}
}

// TestCommandErrors: bad flags, an unreachable URL, a server that is not
// Prometheus, a missing PID: a clear message and status 2.
func TestCommandErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"scan"}, "--prometheus URL is required"},
		{[]string{"scan", "--prometheus", closed, "--range", "a week"}, `--range "a week"`},
		{[]string{"scan", "--prometheus", closed, "--step", "-1m"}, `--step "-1m"`},
		{[]string{"scan", "--prometheus", closed, "--selector", `job="x"`}, "want label matchers in braces"},
		{[]string{"scan", "--prometheus", closed}, "does not answer as a Prometheus query API"},
		{[]string{"replay"}, "want one CSV file"},
		{[]string{"replay", "/no/such.csv"}, "no such file"},
		{[]string{"watch", "--pid", "999999999"}, "--pid 999999999: no such process"},
		{[]string{"watch"}, "--pid 0"},
		{[]string{"run"}, "want a command after --"},
		{[]string{"run", "--", "/no/such/program"}, "start /no/such/program"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		var out, errOut bytes.Buffer
		if status := run(tt.args, strings.NewReader(""), &out, &errOut); status != exitError || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: status %d, stderr %q; want 2 and %q", tt.args, status, errOut.String(), tt.want)
		}
	}
}

// TestScanNotPrometheus: an HTTP server that is not Prometheus.
func TestScanNotPrometheus(t *testing.T) {
	srv := newHTTPServer(t, "<html>hello</html>")
	var out, errOut bytes.Buffer
	status := run([]string{"scan", "--prometheus", srv}, nil, &out, &errOut)
	if status != exitError || !strings.Contains(errOut.String(), "does not answer as a Prometheus query API") {
		t.Errorf("status %d, stderr %q", status, errOut.String())
	}
}

// TestScanFindsALeakThroughMissingScrapes: a heap leak whose series
// misses scrapes (20 minutes every six hours, while RSS and goroutines go
// on) is still found: the missing values are not measured, not zero.
func TestScanFindsALeakThroughMissingScrapes(t *testing.T) {
	var p fakeProm
	heap := memory(1, 200e6, 20e6, 24*time.Hour)
	p.add(ls("memwatch_heap_live_bytes", "api", "api-1"), func(at time.Time) (float64, bool) {
		if scanEnd.Sub(at)%(6*time.Hour) < 20*time.Minute {
			return 0, false
		}
		return heap(at)
	})
	p.add(ls("process_memory_usage_bytes", "api", "api-1"), memory(2, 300e6, 0, 0))
	p.add(ls("go_goroutine_count", "api", "api-1"), constant(200))
	status, rows, summary, err := runScan(t, &p, scanConfig{})
	if err != nil || status != exitLeak || len(rows) == 0 || rows[0].Signal != "heap_live" {
		t.Fatalf("status %d, %v, findings %+v; want the heap leak\n%s", status, err, rows, summary)
	}
}

// TestScanRSSStartingLate: a flat process whose RSS series begins an hour
// after its heap's (another exporter, a relabel) is not flagged: until
// RSS is seen it is unknown, not zero, which the threshold rule would
// take as the baseline RSS grew 300 MB over.
func TestScanRSSStartingLate(t *testing.T) {
	var p fakeProm
	begin := scanEnd.Add(-3 * 24 * time.Hour)
	rss := memory(2, 300e6, 0, 0)
	p.add(ls("memwatch_heap_live_bytes", "api", "api-1"), memory(1, 200e6, 0, 0))
	p.add(ls("process_memory_usage_bytes", "api", "api-1"), func(at time.Time) (float64, bool) {
		if at.Sub(begin) < time.Hour {
			return 0, false
		}
		return rss(at)
	})
	status, rows, summary, err := runScan(t, &p, scanConfig{})
	if err != nil || status != 0 || len(rows) != 0 {
		t.Fatalf("status %d, %v, findings %+v; want none\n%s", status, err, rows, summary)
	}
}

// TestScanDropsValuesNoSampleHolds: an exporter that reports a memory
// gauge as +Inf, 1e30 or below zero, or a start time as NaN, feeds the
// analyzer nothing for those moments: no finding, no restart, and the scan
// names the first bad value and how many there were.
func TestScanDropsValuesNoSampleHolds(t *testing.T) {
	var p fakeProm
	bad := map[time.Time]float64{
		scanEnd.Add(-30 * time.Hour): math.Inf(1),
		scanEnd.Add(-20 * time.Hour): 1e30,
		scanEnd.Add(-10 * time.Hour): -5e6,
	}
	flat := memory(1, 200e6, 0, 0)
	p.add(ls("memwatch_heap_live_bytes", "svc", "a"), func(t time.Time) (float64, bool) {
		if v, ok := bad[t]; ok {
			return v, true
		}
		if t.Equal(scanEnd.Add(-5 * time.Hour)) {
			return math.NaN(), true
		}
		return flat(t)
	})
	p.add(ls("go_goroutine_count", "svc", "a"), func(t time.Time) (float64, bool) {
		if t.Equal(scanEnd.Add(-12 * time.Hour)) {
			return math.Inf(1), true
		}
		return 200, true
	})
	p.add(ls("process_start_time_seconds", "svc", "a"), func(t time.Time) (float64, bool) {
		if t.Equal(scanEnd.Add(-40 * time.Hour)) {
			return math.NaN(), true
		}
		return 1.7e9, true
	})
	status, rows, summary, err := runScan(t, &p, scanConfig{})
	if len(rows) != 0 || !strings.Contains(summary, "0 restarts") {
		t.Errorf("findings %+v, summary %q: the bad values must not reach the analyzer", rows, summary)
	}
	if status != exitError || err == nil {
		t.Fatalf("status %d, error %v: want %d and an error naming the bad values", status, err, exitError)
	}
	for _, want := range []string{"svc a", "4 values", "memwatch_heap_live_bytes", "+Inf", "2026-11-18T18:00:00Z"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestScanBlamesOnlyTheLeakingSeries: a flat instance and a leaking one
// whose labels are a superset of the flat one's (a selector for the flat
// one matches both), under memwatch's names and under client_golang's.
// Only the leaking one is flagged.
func TestScanBlamesOnlyTheLeakingSeries(t *testing.T) {
	for _, names := range [][2]string{
		{"memwatch_heap_live_bytes", "process_memory_usage_bytes"},
		{"go_memstats_heap_inuse_bytes", "process_resident_memory_bytes"},
	} {
		t.Run(names[0], func(t *testing.T) {
			var p fakeProm
			p.add(ls(names[0], "api", "a:1"), memory(1, 200e6, 0, 0))
			p.add(ls(names[1], "api", "a:1"), memory(2, 300e6, 0, 0))
			p.add(ls(names[0], "api", "a:1", "pod", "p2"), memory(3, 200e6, 20e6, 24*time.Hour))
			p.add(ls(names[1], "api", "a:1", "pod", "p2"), memory(4, 300e6, 0, 0))
			status, rows, _, err := runScan(t, &p, scanConfig{})
			if err != nil || status != exitLeak || len(rows) == 0 {
				t.Fatalf("status %d, %d rows, %v; want 1 and findings", status, len(rows), err)
			}
			for _, r := range rows {
				if r.Instance != `a:1{pod="p2"}` {
					t.Errorf("finding blames %s (%s); want only a:1{pod=\"p2\"}", r.Instance, r.Signal)
				}
			}
		})
	}
}

// TestScanResumesFromState: a scan with --state over three days, in two
// runs a day apart, finds exactly what one scan over the three days
// finds; the second run reads only the day that is new.
func TestScanResumesFromState(t *testing.T) {
	fleet := func() *fakeProm {
		var p fakeProm
		p.add(ls("memwatch_heap_live_bytes", "api", "api-1"), memory(1, 200e6, 20e6, 30*time.Hour))
		p.add(ls("process_memory_usage_bytes", "api", "api-1"), memory(2, 300e6, 0, 0))
		p.add(ls("memwatch_heap_live_bytes", "api", "api-2"), memory(3, 200e6, 0, 0))
		return &p
	}
	_, whole, _, err := runScan(t, fleet(), scanConfig{rng: 72 * time.Hour})
	if err != nil || len(whole) == 0 {
		t.Fatalf("one scan: %d findings, %v", len(whole), err)
	}
	dir := t.TempDir()
	first := fleet()
	cfg := scanConfig{rng: 48 * time.Hour, stateDir: dir, step: time.Minute, parallel: 2, end: scanEnd.Add(-24 * time.Hour), asJSON: true}
	var out1, out2, errOut bytes.Buffer
	if _, err := scan(t.Context(), first, cfg, &out1, &errOut); err != nil {
		t.Fatal(err)
	}
	second := fleet()
	cfg.rng, cfg.end = 72*time.Hour, scanEnd
	if _, err := scan(t.Context(), second, cfg, &out2, &errOut); err != nil {
		t.Fatal(err)
	}
	if !second.earliest.After(scanEnd.Add(-24 * time.Hour)) {
		t.Errorf("the second scan read from %v, want only after the first one's end", second.earliest)
	}
	var resumed []row
	for _, line := range strings.Split(strings.TrimSpace(out1.String()+out2.String()), "\n") {
		if line == "" {
			continue
		}
		var r row
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		resumed = append(resumed, r)
	}
	sortRows(resumed)
	if !reflect.DeepEqual(resumed, whole) {
		t.Errorf("two scans resumed from state found\n%+v\none scan found\n%+v", resumed, whole)
	}
}

// TestScanStateOfAnotherInstance: a state file renamed onto another
// instance's name is refused, naming the file.
func TestScanStateOfAnotherInstance(t *testing.T) {
	dir := t.TempDir()
	pr, _ := newProgress()
	if err := pr.save(dir, "a"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(stateFile(dir, "a"), stateFile(dir, "b")); err != nil {
		t.Fatal(err)
	}
	if _, err := loadProgress(dir, "b"); err == nil || !strings.Contains(err.Error(), "saved for another instance") {
		t.Errorf("loadProgress: %v, want it refused", err)
	}
}
