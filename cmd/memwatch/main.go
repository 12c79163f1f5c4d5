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
	"strings"
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
                [--parallel N] [--json] [--plot DIR] [--timeout 2m] [--max-response-mib 256]
                [--state DIR]
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
	var shown flagError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitClean // help asked for and printed
	case errors.As(err, &shown):
		return exitError // the flag package printed it with the usage
	case err != nil:
		fmt.Fprintf(stderr, "memwatch %s: %v\n", args[0], err)
		return exitError
	}
	return status
}

// newFlags returns a flag set that reports to stderr and returns errors;
// its usage starts with synopsis, the command line after "memwatch".
func newFlags(synopsis string, stderr io.Writer) *flag.FlagSet {
	name, _, _ := strings.Cut(synopsis, " ")
	fs := flag.NewFlagSet("memwatch "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: memwatch %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// flagError is a flag the flag package has already reported, with the
// usage: not printed a second time.
type flagError struct{ error }

// parseFlags parses args into fs; its errors are ErrHelp or a flagError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return flagError{err}
}

// plural is "1 finding", "2 findings".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
