package main

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// buildLeaker builds testdata/leaker once per test.
func buildLeaker(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("unix child")
	}
	bin := filepath.Join(t.TempDir(), "leaker")
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./testdata/leaker").CombinedOutput()
	if err != nil {
		t.Fatalf("build leaker: %v\n%s", err, out)
	}
	return bin
}

// TestRunFindsTheChildsLeak: a child leaking 20 MiB/s, watched at 600x
// time scale, is flagged for its RSS; run says it is a Go program seen from
// outside, reports its peak RSS, and exits with the child's status.
func TestRunFindsTheChildsLeak(t *testing.T) {
	leaker := buildLeaker(t)
	var out, errOut syncBuffer
	status := run([]string{"run", "--interval", "20ms", "--time-scale", "600", "--", leaker, "-for", "20s"}, nil, &out, &errOut)
	if status != 0 {
		t.Fatalf("status %d, want the child's 0\n%s", status, errOut.String())
	}
	for _, want := range []string{"a Go program", "exited with status 0, peak RSS"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "rss") || !strings.Contains(out.String(), "trend") {
		t.Errorf("no rss trend finding for the leaking child:\n%s", out.String())
	}
	if !strings.Contains(out.String(), `"Name":"memwatch.leak"`) || !strings.Contains(out.String(), `"process.memory.usage"`) {
		t.Errorf("the finding span or the RSS metric did not reach the stdout exporters:\n%.2000s", out.String())
	}
}

// TestRunExitsWithTheChildsStatus: a child that exits 3 makes run exit 3.
func TestRunExitsWithTheChildsStatus(t *testing.T) {
	leaker := buildLeaker(t)
	var out, errOut syncBuffer
	if status := run([]string{"run", "--interval", "50ms", "--", leaker, "-for", "0s", "-exit", "3"}, nil, &out, &errOut); status != 3 {
		t.Errorf("status %d, want 3\n%s", status, errOut.String())
	}
}

// TestReplay: a leaking CSV is flagged (status 1, JSON lines, a PNG that
// decodes); a malformed row stops it with the line named (status 2).
func TestReplay(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("time,heap_live\n")
	for i := range 600 { // 10 hours a minute apart, 20 MB/h from hour 2
		heap := 200e6
		if i > 120 {
			heap += 20e6 * float64(i-120) / 60
		}
		csv.WriteString(strings.Join([]string{itoa(1_700_000_000 + 60*i), itoa(int(heap))}, ",") + "\n")
	}
	path := filepath.Join(dir, "leak.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	plots := filepath.Join(dir, "plots")
	var out, errOut bytes.Buffer
	if status := run([]string{"replay", "--json", "--plot", plots, path}, nil, &out, &errOut); status != exitLeak {
		t.Fatalf("status %d, want 1\n%s", status, errOut.String())
	}
	if !strings.HasPrefix(out.String(), `{"service":"replay","instance":"leak.csv","signal":"heap_live"`) {
		t.Errorf("JSON output %q", out.String())
	}
	f, err := os.Open(filepath.Join(plots, "leak.csv_heap_live.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() < 500 {
		t.Errorf("plot: %v, %v", err, img)
	}

	bad := filepath.Join(dir, "bad.csv")
	_ = os.WriteFile(bad, []byte("time,rss\n1700000000,1\n1700000060,lots\n"), 0o644)
	out.Reset()
	errOut.Reset()
	if status := run([]string{"replay", bad}, nil, &out, &errOut); status != exitError || !strings.Contains(errOut.String(), "line 3") {
		t.Errorf("malformed row: status %d, stderr %q; want 2 naming line 3", status, errOut.String())
	}
	errOut.Reset()
	if status := run([]string{"replay", "-"}, strings.NewReader("time,rss\n1700000000,1\n"), &out, &errOut); status != exitClean {
		t.Errorf("stdin replay: status %d, %s", status, errOut.String())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
