//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunForwardsSignals: a signal memwatch run receives reaches the child,
// and run exits with the status the child chose.
func TestRunForwardsSignals(t *testing.T) {
	leaker := buildLeaker(t)
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- run([]string{"run", "--interval", "50ms", "--", leaker, "-usr1-exit", "7"}, nil, &out, &errOut)
	}()
	for !strings.Contains(out.String(), "ready") {
		time.Sleep(10 * time.Millisecond) // the child installs its handler, then says so
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if status := <-done; status != 7 {
		t.Errorf("status %d, want the child's 7 after SIGUSR1\n%s", status, errOut.String())
	}
}

// TestRunSaysWhichSignalKilledTheChild: "was killed by SIGTERM (status
// 143)", not "exited with status 143"; run exits 143 as a shell would.
func TestRunSaysWhichSignalKilledTheChild(t *testing.T) {
	var out, errOut syncBuffer
	status := run([]string{"run", "--interval", "50ms", "--", "sh", "-c", "kill -TERM $$"}, nil, &out, &errOut)
	if want := "sh was killed by SIGTERM (status 143)"; status != 143 || !strings.Contains(errOut.String(), want) {
		t.Errorf("status %d, stderr %q; want 143 and %q", status, errOut.String(), want)
	}
}

// TestRunPeakIsTheChildsOwn: this process holds 300 MiB and runs a
// small child: run's peak RSS is the child's own (its high-water mark),
// never our memory from rusage.
func TestRunPeakIsTheChildsOwn(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the high-water mark is read from /proc")
	}
	held := make([]byte, 300<<20)
	for i := 0; i < len(held); i += 4096 {
		held[i] = 1
	}
	leaker := buildLeaker(t)
	var out, errOut syncBuffer
	done := make(chan int)
	go func() {
		done <- run([]string{"run", "--interval", "10ms", "--", leaker, "-usr1-exit", "0"}, nil, &out, &errOut)
	}()
	for !strings.Contains(out.String(), "ready") {
		time.Sleep(10 * time.Millisecond) // the child installs its handler, then says so
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	<-done
	runtime.KeepAlive(held)
	line := errOut.String()
	if !strings.Contains(line, "(its high-water mark, last read while it ran)") || strings.Contains(line, "MiB (") && peakMiB(t, line) > 150 {
		t.Errorf("stderr %q: want the child's own peak from its high-water mark", line)
	}
}

// peakMiB reads "peak RSS 12.3 MiB" from run's exit line.
func peakMiB(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	i := strings.Index(s, "peak RSS ")
	if i < 0 {
		t.Fatalf("no peak RSS in %q", s)
	}
	if _, err := fmt.Sscanf(s[i:], "peak RSS %g MiB", &v); err != nil {
		t.Fatalf("peak RSS in %q: %v", s, err)
	}
	return v
}

// TestWatchSaysTheProcessExited: watch ends with status 0 and says when
// its process exited, reaped or a zombie alike.
func TestWatchSaysTheProcessExited(t *testing.T) {
	for _, reap := range []bool{true, false} {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var out, errOut syncBuffer
		done := make(chan int)
		go func() {
			done <- run([]string{"watch", "--interval", "20ms", "--pid", strconv.Itoa(cmd.Process.Pid)}, nil, &out, &errOut)
		}()
		for !strings.Contains(errOut.String(), "watching") {
			time.Sleep(10 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		if reap {
			_ = cmd.Wait()
		}
		status := <-done
		if !reap {
			_ = cmd.Wait()
		}
		if want := fmt.Sprintf("sleep (pid %d) exited at ", cmd.Process.Pid); status != exitClean || !strings.Contains(errOut.String(), want) {
			t.Errorf("reaped %v: status %d, stderr %q; want 0 and %q", reap, status, errOut.String(), want)
		}
	}
}
