package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/memwatch/memwatch/leakdetect"
	"github.com/memwatch/memwatch/leakdetect/replay"
)

func replayCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("replay [flags] FILE.csv (- reads stdin; flags go before the file)", stderr)
	asJSON := fs.Bool("json", false, "print findings as JSON lines")
	plotDir := fs.String("plot", "", "write a picture of each flagged signal into this directory")
	if err := parseFlags(fs, args); err != nil {
		return exitError, err
	}
	for _, a := range fs.Args()[min(1, fs.NArg()):] {
		if strings.HasPrefix(a, "-") && a != "-" {
			return exitError, fmt.Errorf("flag %s after the file: flags go before it (memwatch replay [--json] [--plot DIR] FILE.csv)", shown(a))
		}
	}
	if fs.NArg() != 1 {
		return exitError, fmt.Errorf("want one CSV file (- for stdin), got %d arguments", fs.NArg())
	}
	path := fs.Arg(0)
	in := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return exitError, err
		}
		defer f.Close()
		in = f
	}
	a, err := leakdetect.NewAnalyzer()
	if err != nil {
		return exitError, err
	}
	var (
		findings []leakdetect.Finding
		kept     thinned // only with --plot
		n        int
	)
	err = replay.Read(in, func(s leakdetect.Sample) error {
		n++
		if *plotDir != "" {
			kept.add(s)
		}
		findings = append(findings, a.Observe(s)...)
		return nil
	})
	if err != nil {
		return exitError, fmt.Errorf("%s: %w", path, err)
	}
	name := filepath.Base(path)
	rows := make([]row, 0, len(findings))
	for _, f := range findings {
		rows = append(rows, newRow("replay", name, f))
	}
	if err := printRows(stdout, rows, *asJSON); err != nil {
		return exitError, err
	}
	if *plotDir != "" && len(findings) > 0 {
		if err := plotSamples(*plotDir, name, kept.kept, findings); err != nil {
			return exitError, err
		}
	}
	fmt.Fprintf(stderr, "replayed %s of %s: %s\n", plural(n, "sample"), shown(path), plural(len(findings), "finding"))
	if len(findings) > 0 {
		return exitLeak, nil
	}
	return exitClean, nil
}
