package main

import "fmt"

// The scorecard judges memwatch's latency against the oracle (bound.go)
// on the same series in the same run: on a row where the oracle finds at
// least oracleSure of the leaks by the deadline, memwatch's median
// latency may be at most medianRatio times the oracle's and its slowest
// series at most slowestRatio times the oracle's slowest; on a row where
// the oracle finds fewer, memwatch must find at least recallShare as many
// by the deadline.
const (
	oracleSure   = 0.95
	medianRatio  = 1.3
	slowestRatio = 2.0
	recallShare  = 0.8
)

// againstOracle applies the rule to one row and says why it fails ("" when
// it holds).
func againstOracle(mw, oracle *tally) string {
	if oracle.runs == 0 {
		return ""
	}
	if float64(oracle.detected) < oracleSure*float64(oracle.runs) {
		if float64(mw.detected) < recallShare*float64(oracle.detected) {
			return fmt.Sprintf("found %d by the deadline, under %.0f%% of the oracle's %d", mw.detected, 100*recallShare, oracle.detected)
		}
		return ""
	}
	om, _ := oracle.at(median(oracle))
	slow, _ := oracle.at(slowest(oracle))
	m, mok := mw.at(median(mw))
	s, sok := mw.at(slowest(mw))
	switch {
	case !mok || float64(m) > medianRatio*float64(om):
		return fmt.Sprintf("median %s, over %.1fx the oracle's %s", mw.nth(median(mw)), medianRatio, oracle.nth(median(oracle)))
	case !sok || float64(s) > slowestRatio*float64(slow):
		return fmt.Sprintf("slowest %s, over %.0fx the oracle's %s", mw.nth(slowest(mw)), slowestRatio, oracle.nth(slowest(oracle)))
	}
	return ""
}

// ratio is a over b as "1.4x", or what stands in for it.
func ratio(a, b *tally, i func(t *tally) int) string {
	x, xok := a.at(i(a))
	y, yok := b.at(i(b))
	switch {
	case !xok:
		return "never"
	case !yok || y == 0:
		return "-"
	}
	return fmt.Sprintf("%.2fx", float64(x)/float64(y))
}

func median(t *tally) int  { return t.runs / 2 }
func slowest(t *tally) int { return t.runs - 1 }

// printAgainstOracle tables each leak's outcome beside the
// oracle's on the same series, with the rule's verdict, and reports
// whether every row holds.
func printAgainstOracle(rows []*row) bool {
	header, pass := false, true
	for _, r := range rows {
		if r.oracle.runs == 0 {
			continue
		}
		if !header {
			fmt.Println()
			fmt.Printf("| case | oracle: in time | latency median / max | memwatch: in time | latency median / max | median ratio | slowest ratio | within %.1fx / %.0fx |\n", medianRatio, slowestRatio)
			fmt.Println("|---|---|---|---|---|---|---|---|")
			header = true
		}
		verdict := "yes"
		if why := againstOracle(&r.mw, &r.oracle); why != "" {
			verdict, pass = "**no**: "+why, false
		}
		fmt.Printf("| %s | %d/%d | %s | %d/%d | %s | %s | %s | %s |\n", r.c.Name,
			r.oracle.detected, r.oracle.runs, r.oracle.latency(), r.mw.detected, r.mw.runs, r.mw.latency(),
			ratio(&r.mw, &r.oracle, median), ratio(&r.mw, &r.oracle, slowest), verdict)
	}
	return pass
}
