package childmem

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// TestChildPeakIsNotTheParents: this process holds 300 MiB and starts
// cat, which needs a few: the rusage maximum is ours, so it is not used;
// the high-water mark read while the child ran is, and is far below what
// we hold.
func TestPeakIsNotTheParents(t *testing.T) {
	buf, err := syscall.Mmap(-1, 0, 300<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(buf)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	cmd := exec.Command("cat")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	hwm, err := HighWater(cmd.Process.Pid)
	stdin.Close()
	if werr := cmd.Wait(); err != nil || werr != nil {
		t.Fatalf("HighWater %v, Wait %v", err, werr)
	}
	if hwm == 0 || hwm > 64<<20 {
		t.Fatalf("cat's high-water mark %d MiB, want a few", hwm>>20)
	}
	if r, ok := rusageMaxRSS(cmd.ProcessState); !ok || r < 300<<20 {
		t.Logf("rusage maximum %d MiB: this kernel does not count the parent's memory", r>>20)
	}
	peak, source, ok := Peak(cmd.ProcessState, hwm)
	if !ok || peak > 64<<20 || source != FromHighWater {
		t.Errorf("ChildPeak = %d MiB from %q, want the child's own few MiB from its high-water mark", peak>>20, source)
	}
	if _, _, ok := Peak(cmd.ProcessState, 0); ok {
		t.Errorf("ChildPeak without a high-water mark reported a peak: the rusage one is ours")
	}
	if _, err := HighWater(os.Getpid()); err != nil {
		t.Errorf("HighWater(self): %v", err)
	}
}

// TestChildPeakAboveOursIsTheChilds: a child that grows past this
// process's peak is reported from rusage, even unsampled.
func TestPeakAboveOursIsTheChilds(t *testing.T) {
	self, ok := selfMaxRSS()
	if !ok {
		t.Fatal("no rusage of our own")
	}
	mib := (self >> 20) + 64
	// The shell holds the whole string in memory.
	cmd := exec.Command("sh", "-c", `x=$(head -c `+itoa(mib)+`M /dev/zero | tr '\0' a); echo ${#x} >/dev/null`)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	peak, source, ok := Peak(cmd.ProcessState, 0)
	t.Logf("peak %d MiB from %s", peak>>20, source)
	if !ok || source != FromRusage || peak < self {
		t.Errorf("ChildPeak = %d MiB from %q (ok %v), want above our %d MiB from rusage", peak>>20, source, ok, self>>20)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
