//go:build unix

package main

import (
	"os"
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
