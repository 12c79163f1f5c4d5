// Command leakeval runs leakdetect's Analyzer (with its defaults) and the
// fixed-threshold rule over the scenario suites, at several samplings and
// seeds, and prints recall, false alarms and latency as Markdown tables
// (the ones in BENCHMARKS.md). Each leak also runs through the first
// version of the analyzer (internal/cmd/leakeval/baseline), and a second table sets
// the two latencies side by side, and each leak through an
// oracle that knows the series' noise (bound.go), a third table judging
// memwatch's latency against it (against.go). It exits 1 when a required
// case fails, or with -ratio when a row breaks the rule against the oracle.
// With -bound it prints, instead, what a detector that knew each series'
// noise exactly could do on the leaks (bound.go).
//
//	go run ./internal/cmd/leakeval -seeds 5              # every required suite
//	go run ./internal/cmd/leakeval -seeds 25 -first 26   # seeds never tuned on
//	go run ./internal/cmd/leakeval -suite stress         # where the defaults stop holding
//	go run ./internal/cmd/leakeval -bound -seeds 25      # the best any detector could do
//	go run ./internal/cmd/leakeval -suite realistic -deadlines 2 # which deadlines it meets
//	go run ./internal/cmd/leakeval -replay recording.csv # a recorded series
//	go run ./internal/cmd/leakeval -gaps -seeds 10       # what a silence of 0 to 24 h does
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/memwatch/memwatch/internal/bytefmt"
	"github.com/memwatch/memwatch/internal/cmd/leakeval/baseline"
	"github.com/memwatch/memwatch/internal/testutil/scenario"
	"github.com/memwatch/memwatch/leakdetect"
	"github.com/memwatch/memwatch/leakdetect/replay"
)

func main() {
	seeds := flag.Int("seeds", 3, "series per case and sampling")
	first := flag.Int("first", 1, "the first seed: seeds first to first+seeds-1 (a later range is data the defaults were not tuned on)")
	only := flag.String("only", "", "run only cases whose name contains this")
	suite := flag.String("suite", "required", "required (catalog, realistic, real, sweep), catalog, realistic, real, sweep or stress")
	z := flag.Float64("significance", leakdetect.DefaultSignificance, "the analyzer's WithSignificance")
	flag.BoolVar(&verbose, "v", false, "print every false alarm and every leak missed by its deadline (to stderr)")
	flag.BoolVar(&withOracle, "oracle", true, "run the oracle (see -bound) on the same series and table memwatch's latency against it")
	flag.BoolVar(&ratioRequired, "ratio", false, "fail when memwatch's latency on a leak is not within 1.3x the oracle's median and 2x its slowest (see against.go)")
	flag.BoolVar(&lookalikes, "lookalikes", false, "with -bound: apply each leak's oracle to the suite's never-flag cases of the same noise and count the series it flags")
	showBound := flag.Bool("bound", false, "print what a detector that knew each series' noise exactly could do on the suite's leaks, instead of running the analyzer")
	deadlines := flag.Float64("deadlines", 1, "multiply every leak's deadline by this (its series runs that much longer): which deadlines the defaults would meet")
	replayFile := flag.String("replay", "", "replay a recorded CSV (- for stdin) through the analyzer and print its findings")
	gaps := flag.Bool("gaps", false, "print latency and findings around silences of 0 to 24 hours, instead of the suites")
	flag.Parse()
	if *replayFile != "" {
		n, err := replayCSV(*replayFile, os.Stdout, leakdetect.WithSignificance(*z))
		if err != nil {
			fmt.Fprintln(os.Stderr, "leakeval:", err)
			os.Exit(2)
		}
		if n > 0 {
			os.Exit(1)
		}
		return
	}
	if *seeds <= 0 {
		fmt.Fprintf(os.Stderr, "leakeval: -seeds %d: must be positive\n", *seeds)
		os.Exit(2)
	}
	if *deadlines < 1 {
		fmt.Fprintf(os.Stderr, "leakeval: -deadlines %v: must be 1 or more\n", *deadlines)
		os.Exit(2)
	}
	if *first <= 0 {
		fmt.Fprintf(os.Stderr, "leakeval: -first %d: must be positive\n", *first)
		os.Exit(2)
	}
	if *gaps {
		printGaps(os.Stdout, *seeds, *first)
		return
	}
	opts := []leakdetect.AnalyzerOption{leakdetect.WithSignificance(*z)}
	ok := true
	for _, name := range suiteNames(*suite) {
		cases, samplings, required, err := suiteCases(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "leakeval:", err)
			os.Exit(2)
		}
		scaleDeadlines(cases, *deadlines)
		fmt.Printf("\n### %s\n\n", name)
		if *showBound {
			bound(cases, samplings, uint64(*first), *seeds, *only)
			continue
		}
		if !run(cases, samplings, uint64(*first), *seeds, *only, opts) && required {
			ok = false
		}
	}
	if !ok {
		os.Exit(1)
	}
}

// scaleDeadlines multiplies each leak's deadline by f and runs its series
// that much longer, so a detection by the new deadline can be seen.
func scaleDeadlines(cases []scenario.Case, f float64) {
	for i := range cases {
		c := &cases[i]
		if c.Want == "" || f == 1 {
			continue
		}
		longer := time.Duration(float64(c.Deadline) * f)
		c.Duration += longer - c.Deadline
		c.Deadline = longer
	}
}

func suiteNames(s string) []string {
	if s == "required" {
		return []string{"catalog", "realistic", "real", "sweep"}
	}
	return []string{s}
}

func suiteCases(name string) (cases []scenario.Case, samplings []scenario.Sampling, required bool, err error) {
	all := scenario.Samplings()
	switch name {
	case "catalog":
		return scenario.Catalog(), all, true, nil
	case "realistic":
		for _, c := range scenario.Catalog() {
			for _, r := range scenario.Realisms() {
				cases = append(cases, r.Apply(c))
			}
		}
		return cases, all, true, nil
	case "real":
		return scenario.RealCatalog(), all, true, nil
	case "sweep":
		return scenario.SawtoothSweep(5*time.Second, 24*time.Hour), all[:1], true, nil
	case "stress":
		return scenario.Stress(), all, false, nil
	}
	return nil, nil, false, fmt.Errorf("-suite %q: want required, catalog, realistic, real, sweep or stress", name)
}

type tally struct {
	runs, detected, falseAlarms, wrong int
	latencies                          []time.Duration
}

func (t *tally) add(r scenario.Result) {
	t.runs++
	if r.Detected {
		t.detected++
	}
	t.falseAlarms += r.FalseAlarms
	t.wrong += r.WrongSignal
	if r.Latency >= 0 {
		t.latencies = append(t.latencies, r.Latency)
	}
}

// latency is the median and the largest latency over all runs, a run that
// never flagged counting as later than any that did: a median over the
// found alone would hide a case found in a quarter of its runs.
func (t *tally) latency() string {
	if len(t.latencies) == 0 {
		return "never"
	}
	return fmt.Sprintf("%s / %s", t.nth(t.runs/2), t.nth(t.runs-1))
}

// nth is the i-th smallest latency, "never" past the runs found.
func (t *tally) nth(i int) string {
	if d, ok := t.at(i); ok {
		return d.Round(time.Minute).String()
	}
	return "never"
}

func (t *tally) at(i int) (time.Duration, bool) {
	slices.Sort(t.latencies)
	if i >= len(t.latencies) {
		return 0, false
	}
	return t.latencies[i], true
}

// change is how much later than the first version's the median latency
// is, or what stands in for it when either median is "never".
func change(now, v0 *tally) string {
	n, nok := now.at(now.runs / 2)
	o, ook := v0.at(v0.runs / 2)
	switch {
	case nok && ook:
		return fmt.Sprintf("%+d min", int((n - o).Round(time.Minute).Minutes()))
	case nok:
		return "found, v0 never"
	case ook:
		return "never, v0 found"
	}
	return "-"
}

// row is one case's outcome for memwatch, the fixed-threshold rule and, for a
// leak, the first version of the analyzer and the oracle.
type row struct {
	c                    scenario.Case
	mw, seed, v0, oracle tally
}

func (r *row) pass() bool {
	if r.c.Want == "" || r.c.KnownMiss != "" {
		return r.mw.falseAlarms == 0
	}
	return r.mw.detected == r.mw.runs && r.mw.falseAlarms == 0
}

func run(cases []scenario.Case, samplings []scenario.Sampling, first uint64, seeds int, only string, opts []leakdetect.AnalyzerOption) bool {
	var rows []*row
	for _, c := range cases {
		if strings.Contains(c.Name, only) {
			rows = append(rows, &row{c: c})
		}
	}
	eachSampled(rows, func(r *row) scenario.Case { return r.c }, samplings, func(r *row, ci scenario.Case, _ scenario.Sampling) {
		for seed := first; seed < first+uint64(seeds); seed++ {
			res := scenario.Evaluate(ci, seed, analyzer(opts))
			r.mw.add(res)
			if verbose && res.FalseAlarms > 0 {
				explain(ci, seed, opts)
			}
			if verbose && ci.Want != "" && ci.KnownMiss == "" && !res.Detected {
				fmt.Fprintf(os.Stderr, "%s seed %d: missed (%s)\n", ci.Name, seed, missed(res))
			}
			r.seed.add(scenario.Evaluate(ci, seed, scenario.FixedRSSThreshold()))
			if ci.Want != "" {
				r.v0.add(scenario.Evaluate(ci, seed, baseline.Detector()))
			}
		}
		if withOracle && ci.Want != "" && signalValue(ci.Want) != nil {
			boundSampling(ci, first, seeds, &r.oracle)
		}
	})

	fmt.Println("| case | want | deadline | memwatch: detected | false alarms | wrong signal | latency median / max | fixed rule: detected | false alarms | latency median / max |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	pass := true
	for _, r := range rows {
		want, deadline := r.c.Want, r.c.Deadline.String()
		if want == "" {
			want, deadline = "never", "-"
		}
		mark := ""
		switch {
		case !r.pass():
			pass, mark = false, " **FAIL**"
		case r.c.Want != "" && r.mw.detected < r.mw.runs:
			mark = " (known: " + r.c.KnownMiss + ")"
		}
		fmt.Printf("| %s%s | %s | %s | %d/%d | %d | %d | %s | %d/%d | %d | %s |\n",
			r.c.Name, mark, want, deadline, r.mw.detected, r.mw.runs, r.mw.falseAlarms, r.mw.wrong, r.mw.latency(),
			r.seed.detected, r.seed.runs, r.seed.falseAlarms, r.seed.latency())
	}
	printAgainstFirstVersion(rows)
	if !printAgainstOracle(rows) && ratioRequired {
		pass = false
	}
	return pass
}

// eachSampled calls fn with every row's case under each sampling it is
// held to (its own, or else samplings). The rows run in parallel, each
// filled by one goroutine, its samplings in order.
func eachSampled[R any](rows []R, caseOf func(R) scenario.Case, samplings []scenario.Sampling, fn func(R, scenario.Case, scenario.Sampling)) {
	var wg sync.WaitGroup
	next := make(chan R)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				c := caseOf(r)
				sms := samplings
				if c.Samplings != nil {
					sms = c.Samplings
				}
				for _, sm := range sms {
					fn(r, sm.Apply(c), sm)
				}
			}
		}()
	}
	for _, r := range rows {
		next <- r
	}
	close(next)
	wg.Wait()
}

// printAgainstFirstVersion tables each leak's latency beside the first
// version's on the same series: the cost of being right, which the criteria
// bound at about 15 minutes of median latency.
func printAgainstFirstVersion(rows []*row) {
	header := false
	for _, r := range rows {
		if r.v0.runs == 0 {
			continue
		}
		if !header {
			fmt.Println()
			fmt.Println("| case | v0: detected | latency median / max | memwatch: detected | latency median / max | median change |")
			fmt.Println("|---|---|---|---|---|---|")
			header = true
		}
		fmt.Printf("| %s | %d/%d | %s | %d/%d | %s | %s |\n", r.c.Name, r.v0.detected, r.v0.runs, r.v0.latency(),
			r.mw.detected, r.mw.runs, r.mw.latency(), change(&r.mw, &r.v0))
	}
}

var (
	verbose bool
	// withOracle runs the oracle (bound.go) on every leak's
	// series beside memwatch; ratioRequired fails the run when memwatch's
	// latency is not within the rule of it (against.go).
	withOracle, ratioRequired bool
)

func analyzer(opts []leakdetect.AnalyzerOption) scenario.Detector {
	a, err := leakdetect.NewAnalyzer(opts...)
	if err != nil {
		panic(err)
	}
	return func(s scenario.Sample) []scenario.Flag {
		var flags []scenario.Flag
		for _, f := range a.Observe(leakdetect.Sample(s)) {
			flags = append(flags, scenario.Flag{Signal: f.Signal, Time: f.Time})
		}
		return flags
	}
}

// missed says when a leak the deadline passed was found, if ever.
func missed(r scenario.Result) string {
	if r.Latency < 0 {
		return "never found"
	}
	return "found after " + r.Latency.String()
}

// explain prints the findings the analyzer raises on one series.
func explain(c scenario.Case, seed uint64, opts []leakdetect.AnalyzerOption) {
	a, err := leakdetect.NewAnalyzer(opts...)
	if err != nil {
		panic(err)
	}
	for _, s := range c.Samples(seed) {
		for _, f := range a.Observe(leakdetect.Sample(s)) {
			fmt.Fprintf(os.Stderr, "%s seed %d, %v in: ", c.Name, seed, s.Time.Sub(scenario.Start).Round(time.Second))
			printFinding(os.Stderr, f)
		}
	}
}

// replayCSV feeds a recorded series to the analyzer, prints each finding
// and a summary line, and returns how many findings there were.
func replayCSV(path string, w io.Writer, opts ...leakdetect.AnalyzerOption) (int, error) {
	in := os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		in = f
	}
	a, err := leakdetect.NewAnalyzer(opts...)
	if err != nil {
		return 0, err
	}
	var samples, findings int
	var first, last time.Time
	err = replay.Read(in, func(s leakdetect.Sample) error {
		if samples == 0 {
			first = s.Time
		}
		samples++
		last = s.Time
		for _, f := range a.Observe(s) {
			findings++
			fmt.Fprintf(w, "%s  ", f.Time.Format(time.RFC3339))
			printFinding(w, f)
		}
		return nil
	})
	if err != nil {
		return findings, fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(w, "%d samples over %v, %d findings\n", samples, last.Sub(first).Round(time.Minute), findings)
	return findings, nil
}

// printFinding writes one finding as a line for a person.
func printFinding(w io.Writer, f leakdetect.Finding) {
	limit := ""
	if f.TimeToLimit > 0 {
		limit = fmt.Sprintf(", limit in %v", f.TimeToLimit.Round(time.Minute))
	}
	fmt.Fprintf(w, "%s %s: %s over %v (%s/h, significance %.1f)%s\n", f.Signal, f.Reason,
		bytefmt.Amount(f.Signal, f.Growth), f.Window.Round(time.Minute), bytefmt.Amount(f.Signal, f.Rate), f.Significance, limit)
}
