// Command leakeval runs leakdetect's Analyzer (with its defaults) and the
// seed's fixed rule over every case of the scenario catalog, at several
// sampling intervals and seeds, and prints recall, false alarms and
// latency as a Markdown table (the one in BENCHMARKS.md).
//
//	go run ./internal/leakeval -seeds 5
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/memwatch/memwatch/internal/scenario"
	"github.com/memwatch/memwatch/leakdetect"
)

func main() {
	seeds := flag.Int("seeds", 3, "series per case and interval")
	only := flag.String("only", "", "run only cases whose name contains this")
	stress := flag.Bool("stress", false, "run the stress variants instead of the catalog")
	z := flag.Float64("significance", leakdetect.DefaultSignificance, "the analyzer's WithSignificance")
	flag.Parse()
	if *seeds <= 0 {
		fmt.Fprintf(os.Stderr, "leakeval: -seeds %d: must be positive\n", *seeds)
		os.Exit(2)
	}
	cases := scenario.Catalog()
	if *stress {
		cases = scenario.Stress()
	}
	ok := run(cases, *seeds, *only, leakdetect.WithSignificance(*z))
	if !ok {
		os.Exit(1)
	}
}

var intervals = []struct {
	d      time.Duration
	jitter float64
}{{10 * time.Second, 0}, {30 * time.Second, 0.5}, {time.Minute, 0}}

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

func (t *tally) latency() string {
	if len(t.latencies) == 0 {
		return "never"
	}
	slices.Sort(t.latencies)
	return fmt.Sprintf("%s / %s", t.latencies[len(t.latencies)/2].Round(time.Minute), t.latencies[len(t.latencies)-1].Round(time.Minute))
}

func run(cases []scenario.Case, seeds int, only string, opts ...leakdetect.Option) bool {
	fmt.Println("| case | want | deadline | memwatch: detected | false alarms | wrong signal | latency median / max | seed rule: detected | false alarms | latency median / max |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	pass := true
	for _, c := range cases {
		if !strings.Contains(c.Name, only) {
			continue
		}
		var mw, seed tally
		for _, iv := range intervals {
			ci := c.WithInterval(iv.d, iv.jitter)
			for s := range seeds {
				mw.add(scenario.Evaluate(ci, uint64(s+1), analyzer(opts)))
				seed.add(scenario.Evaluate(ci, uint64(s+1), scenario.SeedRule()))
			}
		}
		want, deadline := c.Want, c.Deadline.String()
		if want == "" {
			want, deadline = "never", "-"
			pass = pass && mw.falseAlarms == 0
		} else {
			pass = pass && mw.detected == mw.runs && mw.falseAlarms == 0
		}
		fmt.Printf("| %s | %s | %s | %d/%d | %d | %d | %s | %d/%d | %d | %s |\n",
			c.Name, want, deadline, mw.detected, mw.runs, mw.falseAlarms, mw.wrong, mw.latency(),
			seed.detected, seed.runs, seed.falseAlarms, seed.latency())
	}
	return pass
}

func analyzer(opts []leakdetect.Option) scenario.Detector {
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
