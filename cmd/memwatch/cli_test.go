package main

import (
	"bytes"
	"context"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v3/process"
)

// TestHelpAndUsage: help is not an error; each usage shows how the
// command is called; a bad flag is reported once.
func TestHelpAndUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--help"}, "Usage: memwatch scan --prometheus URL [flags]"},
		{[]string{"replay", "-h"}, "Usage: memwatch replay [flags] FILE.csv"},
		{[]string{"watch", "-h"}, "Usage: memwatch watch --pid N [flags]"},
		{[]string{"run", "-h"}, "Usage: memwatch run [flags] -- CMD [ARGS...]"},
	} {
		var out, errOut bytes.Buffer
		if status := run(tt.args, nil, &out, &errOut); status != exitClean || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: status %d, stderr %q; want 0 and %q", tt.args, status, errOut.String(), tt.want)
		}
	}
	var out, errOut bytes.Buffer
	status := run([]string{"scan", "--bogus"}, nil, &out, &errOut)
	if n := strings.Count(errOut.String(), "flag provided but not defined: -bogus"); status != exitError || n != 1 {
		t.Errorf("bad flag: status %d, reported %d times in %q; want 2, once", status, n, errOut.String())
	}
}

// TestArgumentsOutOfPlace: a flag after replay's file, an argument watch
// does not take: status 2 saying what is wrong.
func TestArgumentsOutOfPlace(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "leak.csv", "--json"}, `flag --json after the file: flags go before it`},
		{[]string{"watch", "--pid", "1", "extra"}, `unexpected argument "extra"`},
	} {
		var out, errOut bytes.Buffer
		if status := run(tt.args, nil, &out, &errOut); status != exitError || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: status %d, stderr %q; want 2 and %q", tt.args, status, errOut.String(), tt.want)
		}
	}
}

// TestReplayCountsInWords: "1 sample", "0 findings".
func TestReplayCountsInWords(t *testing.T) {
	var out, errOut bytes.Buffer
	status := run([]string{"replay", "-"}, strings.NewReader("time,rss\n1700000000,1\n"), &out, &errOut)
	if want := "replayed 1 sample of -: 0 findings"; status != exitClean || !strings.Contains(errOut.String(), want) {
		t.Errorf("status %d, stderr %q; want 0 and %q", status, errOut.String(), want)
	}
}

// TestWatcherNamesAnExitedChild: a child gone before its name is read is
// named from the command line, not "".
func TestWatcherNamesAnExitedChild(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix child")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	var out, errOut syncBuffer
	w, err := newWatcher(context.Background(), &process.Process{Pid: int32(cmd.Process.Pid)}, "true", time.Second, 1, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	if w.name != "true" || !strings.Contains(errOut.String(), "watching true (pid") {
		t.Errorf("name %q, stderr %q; want the command line's", w.name, errOut.String())
	}
}

// TestReplayBadInput: what memwatch replay does with a broken recording:
// status 2 and a message naming the line, or status 0 for a byte order
// mark, which is not broken.
func TestReplayBadInput(t *testing.T) {
	for _, tt := range []struct {
		name, csv string
		status    int
		want      string
	}{
		{"out of order", "time,rss\n1764547200,100\n1764547210,100\n1764547205,100\n", exitError, "line 4: time 2025-12-01T00:00:05Z is before the row above's"},
		{"extra field", "time,heap_live\n1764547200,1000,5\n", exitError, "line 2: 3 fields, want 2 as the header has"},
		{"header only", "time,heap_live\n", exitError, "a header and no rows"},
		{"byte order mark", "\ufefftime,rss\n1764547200,100\n", exitClean, "replayed 1 sample of -: 0 findings"},
	} {
		var out, errOut bytes.Buffer
		status := run([]string{"replay", "-"}, strings.NewReader(tt.csv), &out, &errOut)
		if status != tt.status || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%s: status %d, stderr %q; want %d and %q", tt.name, status, errOut.String(), tt.status, tt.want)
		}
	}
}
