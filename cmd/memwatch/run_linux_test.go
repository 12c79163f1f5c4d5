package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// buildMemwatch builds the command for tests that need it as a process.
func buildMemwatch(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "memwatch")
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build memwatch: %v\n%s", err, out)
	}
	return bin
}

// openPTY returns a new pseudo-terminal's controlling and terminal ends.
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptm, pts
}

// waitFor reads r until a line contains want, and returns that line.
func waitFor(t *testing.T, r *bufio.Reader, want string) string {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if strings.Contains(line, want) {
			return line
		}
		if err != nil {
			t.Fatalf("no %q in the output: %v", want, err)
		}
	}
}

// TestRunCtrlCReachesTheChildOnce: in a terminal, Ctrl-C goes to memwatch
// and its child alike (one foreground process group); memwatch does not
// send it again. The child counts the SIGINTs it gets in a second and
// exits with that count.
func TestRunCtrlCReachesTheChildOnce(t *testing.T) {
	memwatch, leaker := buildMemwatch(t), buildLeaker(t)
	ptm, pts := openPTY(t)
	cmd := exec.Command(memwatch, "run", "--interval", "50ms", "--", leaker, "-count-int", "1s")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, bufio.NewReader(ptm), "ready")
	if _, err := ptm.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	go io.Copy(io.Discard, ptm)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("the child got %d SIGINTs (%v), want 1", code, err)
	}
}

// TestRunChildDiesWithMemwatch: SIGKILL of memwatch run, which can
// forward nothing, still ends the child (its parent-death signal).
func TestRunChildDiesWithMemwatch(t *testing.T) {
	memwatch, leaker := buildMemwatch(t), buildLeaker(t)
	cmd := exec.Command(memwatch, "run", "--", leaker, "-usr1-exit", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := waitFor(t, bufio.NewReader(stderr), "(pid ")
	var pid int
	if _, err := fmt.Sscanf(line[strings.Index(line, "(pid "):], "(pid %d)", &pid); err != nil {
		t.Fatalf("no pid in %q", line)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	// The child is killed at once; an orphan may stay a zombie until its
	// new parent reaps it. Wait for that; the deadline only bounds a
	// failing run.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return // reaped
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return // dead, not yet reaped
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("child %d still runs a minute after memwatch was killed", pid)
}
