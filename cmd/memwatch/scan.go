package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/memwatch/memwatch/leakdetect"
	"github.com/memwatch/memwatch/leakdetect/replay"
)

// promAPI is the part of Prometheus's HTTP API the scan uses.
type promAPI interface {
	Buildinfo(ctx context.Context) (v1.BuildinfoResult, error)
	Series(ctx context.Context, matches []string, startTime, endTime time.Time, opts ...v1.Option) ([]model.LabelSet, v1.Warnings, v1.Infos, error)
	QueryRange(ctx context.Context, query string, r v1.Range, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error)
}

// The series a scan reads for each instance, by role: memwatch's own names
// first, then client_golang's and cAdvisor's.
const (
	roleHeap       = leakdetect.SignalHeapLive
	roleRSS        = leakdetect.SignalRSS
	roleGoroutines = leakdetect.SignalGoroutines
	roleLimit      = "limit"
	roleRestart    = "restart" // a counter that resets, or a start time that changes, on restart
)

var families = []struct {
	role  string
	names []string
}{
	{roleHeap, []string{"memwatch_heap_live_bytes", "go_memstats_heap_inuse_bytes"}},
	{roleRSS, []string{"process_memory_usage_bytes", "process_resident_memory_bytes", "container_memory_working_set_bytes"}},
	{roleGoroutines, []string{"go_goroutine_count", "go_goroutines"}},
	{roleLimit, []string{"memwatch_memory_limit_bytes", "container_spec_memory_limit_bytes"}},
	{roleRestart, []string{"memwatch_gc_cycles_total", "process_start_time_seconds"}},
}

// limitSources ranks memwatch_memory_limit_bytes's sources: the hard limit
// first; memory.high is not a wall.
var limitSources = map[model.LabelValue]int{"cgroup": 3, "gomemlimit": 2, "host": 1}

// maxGap is the longest silence a series may have without it counting as
// a restart of the process.
const maxGap = 10 * time.Minute

// maxPointsPerQuery keeps each range query under Prometheus's limit of
// 11,000 points per series.
const maxPointsPerQuery = 10000

// target is one process (or container): its identity and the series it
// has for each role.
type target struct {
	key    string
	labels model.LabelSet // identity labels: the series' labels without the name
	series map[string]model.LabelSet
	rank   map[string]int // which name of the family was found (lower is preferred)
}

func (t *target) service() string { return string(t.labels["job"]) }

// instance is the instance label, with any other identity labels after it.
func (t *target) instance() string {
	var extra []string
	for _, k := range slices.Sorted(maps.Keys(t.labels)) {
		if k != "job" && k != "instance" {
			extra = append(extra, fmt.Sprintf("%s=%q", k, t.labels[k]))
		}
	}
	s := string(t.labels["instance"])
	if len(extra) > 0 {
		s += "{" + strings.Join(extra, ",") + "}"
	}
	return s
}

type scanConfig struct {
	url      string
	rng      time.Duration
	step     time.Duration
	selector string
	parallel int
	asJSON   bool
	plotDir  string
	stateDir string // --state: resume from and save each instance's progress
	end      time.Time
	progress io.Writer // nil: no progress bar
}

func scanCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("scan --prometheus URL [flags]", stderr)
	url := fs.String("prometheus", "", "Prometheus (or Thanos, Mimir, VictoriaMetrics) base URL")
	rng := fs.String("range", "7d", "how far back to scan (Prometheus duration: 90m, 12h, 7d)")
	step := fs.String("step", "1m", "resolution of the queried series")
	selector := fs.String("selector", "", `label matchers limiting the scan, e.g. '{job="api"}'`)
	parallel := fs.Int("parallel", runtime.NumCPU(), "instances scanned at once")
	asJSON := fs.Bool("json", false, "print findings as JSON lines")
	plotDir := fs.String("plot", "", "write a picture of each flagged series into this directory")
	timeout := fs.Duration("timeout", defaultTimeout, "the longest one request to Prometheus may take")
	maxMiB := fs.Int64("max-response-mib", defaultMaxResponse>>20, "the largest answer to one request, in MiB")
	stateDir := fs.String("state", "", "keep each instance's progress in this directory, and resume from it: the next scan reads only what is new")
	if err := parseFlags(fs, args); err != nil {
		return exitError, err
	}
	if fs.NArg() > 0 {
		return exitError, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg := scanConfig{url: redacted(*url), selector: strings.TrimSpace(*selector), parallel: *parallel, asJSON: *asJSON, plotDir: *plotDir, end: time.Now()}
	if *url == "" {
		return exitError, errors.New("--prometheus URL is required")
	}
	var err error
	if cfg.rng, err = parseDuration("--range", *rng); err != nil {
		return exitError, err
	}
	if cfg.step, err = parseDuration("--step", *step); err != nil {
		return exitError, err
	}
	if cfg.step > cfg.rng {
		return exitError, fmt.Errorf("--step %s is longer than --range %s: want a step of at most the range", *step, *rng)
	}
	if *timeout <= 0 {
		return exitError, fmt.Errorf("--timeout %v: must be positive", *timeout)
	}
	if *maxMiB < 1 || *maxMiB > 1<<20 {
		return exitError, fmt.Errorf("--max-response-mib %d: want 1 to 1048576", *maxMiB)
	}
	if cfg.parallel < 1 {
		return exitError, fmt.Errorf("--parallel %d: must be at least 1", cfg.parallel)
	}
	if cfg.selector != "" && (!strings.HasPrefix(cfg.selector, "{") || !strings.HasSuffix(cfg.selector, "}")) {
		return exitError, fmt.Errorf(`--selector %q: want label matchers in braces, e.g. '{job="api"}'`, cfg.selector)
	}
	if *stateDir != "" {
		if err := os.MkdirAll(*stateDir, 0o700); err != nil {
			return exitError, fmt.Errorf("--state %s: %w", shortQuoted(*stateDir), err)
		}
		cfg.stateDir = *stateDir
	}
	if isTerminal(stderr) {
		cfg.progress = stderr
	}
	p, err := newPromAPI(*url, *timeout, *maxMiB<<20)
	if err != nil {
		return exitError, fmt.Errorf("--prometheus %s: want an http or https URL", shortQuoted(cfg.url))
	}
	return scan(context.Background(), p, cfg, stdout, stderr)
}

func parseDuration(flagName, v string) (time.Duration, error) {
	d, err := model.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q: want a positive duration such as 90m, 12h or 7d", flagName, v)
	}
	return time.Duration(d), nil
}

// scan finds the targets, runs the analyzer over each, and prints the
// findings and a summary.
func scan(ctx context.Context, p promAPI, cfg scanConfig, stdout, stderr io.Writer) (int, error) {
	if _, err := p.Buildinfo(ctx); err != nil {
		return exitError, fmt.Errorf("%s does not answer as a Prometheus query API: %w", shown(cfg.url), err)
	}
	start := cfg.end.Add(-cfg.rng)
	targets, err := discover(ctx, p, cfg.selector, start, cfg.end)
	if err != nil {
		return exitError, err
	}
	if len(targets) == 0 {
		return exitError, fmt.Errorf("no memory series match %s over the last %v: looked for %s", orAll(cfg.selector), cfg.rng, familyNames())
	}
	began := time.Now()
	var (
		mu       sync.Mutex
		rows     []row
		errs     []error
		samples  int
		series   int
		done     int
		restarts int
	)
	work := make(chan *target)
	var wg sync.WaitGroup
	for range min(cfg.parallel, len(targets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				res, err := analyzeTarget(ctx, p, t, start, cfg)
				if err == nil && cfg.plotDir != "" && len(res.findings) > 0 {
					err = plotTarget(ctx, p, t, start, cfg.end, cfg.step, res.findings, cfg.plotDir)
				}
				mu.Lock()
				for _, f := range res.findings {
					rows = append(rows, newRow(t.service(), t.instance(), f))
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("%s %s: %w", shown(t.service()), shown(t.instance()), err))
				}
				if res.dropped > 0 {
					errs = append(errs, fmt.Errorf("%s %s: left out %d values no sample can hold, the first %s: want a non-negative number a sample holds (bytes below 2^64, goroutines below 2^63)", shown(t.service()), shown(t.instance()), res.dropped, res.firstDropped))
				}
				samples += res.samples
				restarts += res.restarts
				series += len(t.series)
				done++
				if cfg.progress != nil {
					drawProgress(cfg.progress, done, len(targets), time.Since(began))
				}
				mu.Unlock()
			}
		}()
	}
	for _, t := range targets {
		work <- t
	}
	close(work)
	wg.Wait()
	if cfg.progress != nil {
		fmt.Fprint(cfg.progress, "\r\033[K")
	}
	sortRows(rows)
	if err := printRows(stdout, rows, cfg.asJSON); err != nil {
		return exitError, err
	}
	flagged := map[string]bool{}
	for _, r := range rows {
		flagged[r.Service+"\x00"+r.Instance] = true
	}
	fmt.Fprintf(stderr, "scanned %d series of %s over %v at %v steps (%s, %s) in %v: %s in %s\n",
		series, plural(len(targets), "instance"), cfg.rng, cfg.step, plural(samples, "sample"), plural(restarts, "restart"),
		time.Since(began).Round(time.Millisecond), plural(len(rows), "finding"), plural(len(flagged), "instance"))
	if len(errs) > 0 {
		return exitError, errors.Join(errs...)
	}
	if len(rows) > 0 {
		return exitLeak, nil
	}
	return exitClean, nil
}

func orAll(selector string) string {
	if selector == "" {
		return "any series"
	}
	return selector
}

func familyNames() string {
	var names []string
	for _, f := range families[:3] {
		names = append(names, f.names...)
	}
	return strings.Join(names, ", ")
}

// discover lists the series of every family and groups them by process:
// the same labels apart from the metric name.
func discover(ctx context.Context, p promAPI, selector string, start, end time.Time) ([]*target, error) {
	byKey := map[string]*target{}
	for _, fam := range families {
		for rank, name := range fam.names {
			sets, _, _, err := p.Series(ctx, []string{name + selector}, start, end)
			if err != nil {
				return nil, fmt.Errorf("list %s series: %w", name, err)
			}
			for _, ls := range sets {
				if strings.HasPrefix(name, "container_") && !isContainer(ls) {
					continue
				}
				id := identity(ls)
				key := id.String()
				t := byKey[key]
				if t == nil {
					if fam.role == roleLimit || fam.role == roleRestart {
						continue // only for processes that have a memory signal
					}
					t = &target{key: key, labels: id, series: map[string]model.LabelSet{}, rank: map[string]int{}}
					byKey[key] = t
				}
				t.offer(fam.role, rank, ls)
			}
		}
	}
	var out []*target
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, byKey[k])
	}
	return out, nil
}

// isContainer reports whether a cAdvisor series is one container's. The
// kubelet's cAdvisor also exports each pod's cgroup (container=""), its
// pause container ("POD") and the node's and system's cgroups (no
// container label): the pod's memory is its containers' sum and the
// node's is every pod's, so scanned as instances they would report each
// leak again, and a node's growth as a leak of its own. Older kubelets
// name the label container_name.
func isContainer(ls model.LabelSet) bool {
	c := ls["container"]
	if c == "" {
		c = ls["container_name"]
	}
	return c != "" && c != "POD"
}

// offer records a series for a role unless a preferred one is there.
func (t *target) offer(role string, rank int, ls model.LabelSet) {
	old, have := t.series[role]
	switch {
	case !have || rank < t.rank[role]:
	case rank == t.rank[role] && role == roleLimit && limitSources[ls["memwatch_memory_limit_source"]] > limitSources[old["memwatch_memory_limit_source"]]:
	default:
		return
	}
	if role == roleLimit && ls["memwatch_memory_limit_source"] == "cgroup_high" {
		return
	}
	t.series[role], t.rank[role] = ls, rank
}

// identity is a series' labels without its name and memwatch's limit
// source: what the series of one process share.
func identity(ls model.LabelSet) model.LabelSet {
	id := ls.Clone()
	delete(id, model.MetricNameLabel)
	delete(id, "memwatch_memory_limit_source")
	return id
}

// exact is the selector of exactly one series.
func exact(ls model.LabelSet) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, ls[k]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// sameSeries reports whether a and b are one series: the same labels,
// the name aside (a query's answer may leave it out).
func sameSeries(a, b model.LabelSet) bool {
	if unnamedLen(a) != unnamedLen(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; k != model.MetricNameLabel && (!ok || w != v) {
			return false
		}
	}
	return true
}

// unnamedLen is how many labels ls has besides the name.
func unnamedLen(ls model.LabelSet) int {
	if _, ok := ls[model.MetricNameLabel]; ok {
		return len(ls) - 1
	}
	return len(ls)
}

type result struct {
	findings []leakdetect.Finding
	samples  int
	restarts int
	// dropped counts values no sample can hold (see point.sample), left
	// out; firstDropped names the first.
	dropped      int
	firstDropped string
}

// analyzeTarget scans one instance: from where its saved state (--state)
// stopped when there is one and it is inside the range, else from start;
// and saves where it stands afterwards.
func analyzeTarget(ctx context.Context, p promAPI, t *target, start time.Time, cfg scanConfig) (result, error) {
	var pr *progress
	var err error
	if cfg.stateDir != "" {
		if pr, err = loadProgress(cfg.stateDir, t.key); err != nil {
			return result{}, err
		}
	}
	from := start
	if pr != nil && !pr.last.Before(start) {
		from = pr.last.Add(cfg.step)
	} else if pr, err = newProgress(); err != nil {
		return result{}, err
	}
	if !from.Before(cfg.end) {
		return result{}, nil // nothing new since the last scan
	}
	res, err := analyze(ctx, p, t, pr, from, cfg.end, cfg.step)
	if err == nil && cfg.stateDir != "" {
		err = pr.save(cfg.stateDir, t.key)
	}
	return res, err
}

// analyze streams one target's series from start to end through pr's
// analyzer (new, or resumed from a saved state), chunk by chunk in time
// order, starting it again at each restart.
func analyze(ctx context.Context, p promAPI, t *target, pr *progress, start, end time.Time, step time.Duration) (result, error) {
	var res result
	err := eachChunk(ctx, p, t, start, end, step, func(pts []point) error {
		for _, pt := range pts {
			sample, n, first := pt.sample(t)
			if n > 0 {
				if res.dropped == 0 {
					res.firstDropped = first
				}
				res.dropped += n
			}
			restart := !pr.last.IsZero() && pt.t.Sub(pr.last) > maxGap
			if v, ok := pt.v[iRestart], pt.has[iRestart]; ok {
				if pr.haveRestart && resetOrChange(t.series[roleRestart], pr.lastRestart, v) {
					restart = true
				}
				pr.lastRestart, pr.haveRestart = v, true
			}
			if restart {
				res.restarts++
				a, err := leakdetect.NewAnalyzer()
				if err != nil {
					return err
				}
				pr.a = a
			}
			pr.last = pt.t
			res.samples++
			res.findings = append(res.findings, pr.a.Observe(sample)...)
		}
		return nil
	})
	return res, err
}

// resetOrChange: a counter that went down, or a start time that moved.
func resetOrChange(ls model.LabelSet, prev, cur float64) bool {
	if ls[model.MetricNameLabel] == "process_start_time_seconds" {
		return cur != prev
	}
	return cur < prev
}

// A point's arrays are indexed by role.
const (
	iHeap = iota
	iRSS
	iGoroutines
	iLimit
	iRestart
	nRoles
)

// roleAt is the role of each index; roleIndex the index of each role.
var (
	roleAt    = [nRoles]string{iHeap: roleHeap, iRSS: roleRSS, iGoroutines: roleGoroutines, iLimit: roleLimit, iRestart: roleRestart}
	roleIndex = func() map[string]int {
		m := map[string]int{}
		for i, r := range roleAt {
			m[r] = i
		}
		return m
	}()
)

// point is one timestamp's values, by role index.
type point struct {
	t   time.Time
	v   [nRoles]float64
	has [nRoles]bool
}

// sample converts the point to an analyzer sample, each value by
// replay's rules (Bytes, Count). NaN is an exporter's "no value": left
// out, not counted. A value no sample can hold (infinite, negative, too
// large) is a broken exporter: left out, counted in n, the first named
// by its series. Either is cleared from the point, the restart series'
// too (only a non-finite one there), so the restart check does not read
// it.
func (p *point) sample(t *target) (s leakdetect.Sample, n int, first string) {
	s.Time = p.t
	for i := range nRoles {
		if !p.has[i] {
			continue
		}
		v, ok := p.v[i], true
		switch i {
		case iHeap:
			s.HeapLive, ok = replay.Bytes(v)
		case iRSS:
			s.RSS, ok = replay.Bytes(v)
		case iLimit:
			s.Limit, ok = replay.Bytes(v)
		case iGoroutines:
			s.Goroutines, ok = replay.Count(v)
		case iRestart:
			ok = !math.IsInf(v, 0) && !math.IsNaN(v)
		}
		if ok {
			continue
		}
		p.has[i], p.v[i] = false, 0
		if math.IsNaN(v) {
			continue
		}
		if n++; n == 1 {
			name := t.series[roleAt[i]][model.MetricNameLabel]
			first = fmt.Sprintf("%s = %s at %s", name, strconv.FormatFloat(v, 'g', -1, 64), p.t.UTC().Format(time.RFC3339))
		}
	}
	return s, n, first
}

// eachChunk queries the target's series a chunk of the range at a time
// and passes each chunk's points, merged by timestamp and in time order,
// to fn. A range query's timestamps fall on start + k·step, so a chunk's
// points are a slice indexed by k.
func eachChunk(ctx context.Context, p promAPI, t *target, start, end time.Time, step time.Duration, fn func([]point) error) error {
	span := end.Sub(start)
	if step <= span/maxPointsPerQuery {
		span = step * maxPointsPerQuery
	}
	roles := slices.Sorted(maps.Keys(t.series))
	pts := make([]point, 0, maxPointsPerQuery+1)
	for cs := start; cs.Before(end); cs = cs.Add(span + step) {
		ce := cs.Add(span)
		if ce.After(end) {
			ce = end
		}
		pts = pts[:int(ce.Sub(cs)/step)+1]
		for k := range pts {
			pts[k] = point{t: cs.Add(time.Duration(k) * step)}
		}
		for _, role := range roles {
			name := t.series[role][model.MetricNameLabel]
			v, _, _, err := p.QueryRange(ctx, exact(t.series[role]), v1.Range{Start: cs, End: ce, Step: step})
			if err != nil {
				return fmt.Errorf("query %s: %w", shown(exact(t.series[role])), err)
			}
			m, ok := v.(model.Matrix)
			if !ok {
				return fmt.Errorf("query %s: got %s, want a matrix", name, v.Type())
			}
			i := roleIndex[role]
			for _, stream := range m {
				// A selector also matches series with more labels:
				// those are other instances, scanned on their own.
				if !sameSeries(model.LabelSet(stream.Metric), t.series[role]) {
					continue
				}
				for _, sp := range stream.Values {
					at := sp.Timestamp.Time()
					k := int((at.Sub(cs) + step/2) / step)
					if k < 0 || k >= len(pts) {
						continue
					}
					pts[k].t, pts[k].v[i], pts[k].has[i] = at, float64(sp.Value), true
				}
			}
		}
		kept := pts[:0] // in place: fn copies what it keeps
		for _, pt := range pts {
			if pt.has != [nRoles]bool{} {
				kept = append(kept, pt)
			}
		}
		if err := fn(kept); err != nil {
			return err
		}
	}
	return nil
}

// drawProgress redraws "series done / total, ETA" on a terminal.
func drawProgress(w io.Writer, done, total int, elapsed time.Duration) {
	const width = 30
	filled := width * done / total
	eta := time.Duration(float64(elapsed) / float64(done) * float64(total-done))
	fmt.Fprintf(w, "\r\033[K[%s%s] %d/%d instances, ETA %v", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, eta.Round(time.Second))
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
