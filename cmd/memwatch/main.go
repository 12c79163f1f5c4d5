// Command memwatch runs memwatch's leak analyzer outside the process it
// watches: over a fleet's memory history in Prometheus (scan), over a
// recorded CSV (replay), and over another process's resident memory
// (watch, run).
//
//	memwatch scan --prometheus http://127.0.0.1:9090 --range 7d
//	memwatch replay recording.csv
//	memwatch watch --pid 1234
//	memwatch run -- ./server --port 8080
//
// Exit status: 0 no leak found, 1 a leak found, 2 an error (run: the
// child's own exit status).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit statuses.
const (
	exitClean = 0
	exitLeak  = 1
	exitError = 2
)

const usage = `memwatch finds memory leaks with memwatch's analyzer.

Usage:
  memwatch scan --prometheus URL [--range 7d] [--step 1m] [--selector '{job="api"}']
                [--parallel N] [--json] [--plot DIR]
  memwatch replay [--json] [--plot DIR] FILE.csv     (- reads stdin)
  memwatch watch --pid N [--interval 10s]
  memwatch run [--interval 10s] -- CMD [ARGS...]

Exit status: 0 no leak found, 1 a leak found, 2 an error; run exits with
the child's status. "memwatch CMD -h" describes each command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	var err error
	status := exitClean
	switch args[0] {
	case "scan":
		status, err = scanCmd(args[1:], stdout, stderr)
	case "replay":
		status, err = replayCmd(args[1:], stdin, stdout, stderr)
	case "watch":
		status, err = watchCmd(args[1:], stdout, stderr)
	case "run":
		status, err = runCmd(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitClean
	default:
		fmt.Fprintf(stderr, "memwatch: unknown command %q\n\n%s", args[0], usage)
		return exitError
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "memwatch %s: %v\n", args[0], err)
		}
		return exitError
	}
	return status
}

// newFlags returns a flag set that reports to stderr and returns errors.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("memwatch "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
