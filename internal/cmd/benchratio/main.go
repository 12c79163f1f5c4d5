// Command benchratio reads `go test -bench` output on stdin and prints, for
// every benchmark with a "baseline" sub-benchmark, each sibling's median
// ns/op, B/op and allocs/op and its time as a ratio of the baseline's
// median measured in the same run. It exits 1 if a sibling exceeds the
// limit given for it with -max name=ratio.
//
//	go test -run '^$' -bench . -benchmem -count 6 ./... | go run ./internal/cmd/benchratio -max BenchmarkSnapshot/snapshot=1.25
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

type limits map[string]float64

func (l limits) String() string { return fmt.Sprint(map[string]float64(l)) }

func (l limits) Set(s string) error {
	name, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("-max %q: want name=ratio", s)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return fmt.Errorf("-max %q: ratio %q is not a positive number", s, v)
	}
	l[name] = f
	return nil
}

// result holds every run of one benchmark.
type result struct {
	ns, bytes, allocs []float64
}

func main() {
	max := limits{}
	flag.Var(max, "max", "name=ratio: fail when the named benchmark's ratio to its baseline exceeds ratio (repeatable)")
	flag.Parse()
	ok, err := report(os.Stdin, os.Stdout, max)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func report(in io.Reader, out io.Writer, max limits) (bool, error) {
	results := map[string]*result{}
	var order []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		name, r, ok := parseLine(sc.Text())
		if !ok {
			continue
		}
		if results[name] == nil {
			results[name] = &result{}
			order = append(order, name)
		}
		agg := results[name]
		agg.ns = append(agg.ns, r.ns...)
		agg.bytes = append(agg.bytes, r.bytes...)
		agg.allocs = append(agg.allocs, r.allocs...)
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	pass := true
	fmt.Fprintf(out, "| benchmark | runs | ns/op | B/op | allocs/op | ratio to baseline | limit |\n|---|---|---|---|---|---|---|\n")
	for _, name := range order {
		parent, _, _ := strings.Cut(name, "/")
		base := results[parent+"/baseline"]
		r := results[name]
		ratio, limit := "", ""
		if base != nil {
			q := median(r.ns) / median(base.ns)
			ratio = fmt.Sprintf("%.2fx", q)
			if l, ok := max[name]; ok {
				limit = fmt.Sprintf("≤ %.2fx", l)
				if q > l {
					limit += " FAIL"
					pass = false
				}
			}
		}
		fmt.Fprintf(out, "| %s | %d | %.0f | %.0f | %.0f | %s | %s |\n", name, len(r.ns), median(r.ns), median(r.bytes), median(r.allocs), ratio, limit)
	}
	for name := range max {
		if results[name] == nil {
			return false, fmt.Errorf("-max names %s, which is not in the input", name)
		}
	}
	return pass, nil
}

// parseLine reads "BenchmarkX/y-2  N  123 ns/op  45 B/op  6 allocs/op".
func parseLine(line string) (string, result, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", result{}, false
	}
	name := f[0]
	if i := strings.LastIndex(name, "-"); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i] // drop the GOMAXPROCS suffix
		}
	}
	var r result
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			continue
		}
		switch f[i+1] {
		case "ns/op":
			r.ns = append(r.ns, v)
		case "B/op":
			r.bytes = append(r.bytes, v)
		case "allocs/op":
			r.allocs = append(r.allocs, v)
		}
	}
	return name, r, len(r.ns) > 0
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
