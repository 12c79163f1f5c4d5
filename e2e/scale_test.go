//go:build unix

package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestScanScale measures memwatch scan on 1,002 series (334 instances with
// heap, RSS and goroutines) over 7 days at a 1-minute step against a local
// Prometheus: wall time and the scan's peak RSS, for BENCHMARKS.md. It
// backfills about 10 million samples, so it runs only with
// MEMWATCH_SCALE=1.
func TestScanScale(t *testing.T) {
	if os.Getenv("MEMWATCH_SCALE") == "" {
		t.Skip("set MEMWATCH_SCALE=1 to run the scale measurement")
	}
	const instances = 334
	dir := t.TempDir()
	end := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	from := end.Add(-7 * 24 * time.Hour)
	om := filepath.Join(dir, "fleet.om")
	f, err := os.Create(om)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	samples := 0
	for _, fam := range []struct {
		name string
		base float64
	}{{"memwatch_heap_live_bytes", 200e6}, {"process_memory_usage_bytes", 300e6}, {"go_goroutine_count", 200}} {
		fmt.Fprintf(w, "# TYPE %s gauge\n", fam.name)
		for i := range instances {
			for ts := from; !ts.After(end); ts = ts.Add(time.Minute) {
				v := fam.base * (1 + 0.02*noise(fam.name, i, ts))
				if i%50 == 0 && fam.name == "memwatch_heap_live_bytes" && ts.After(end.Add(-48*time.Hour)) {
					v += 20e6 * ts.Sub(end.Add(-48*time.Hour)).Hours()
				}
				fmt.Fprintf(w, "%s{job=\"svc%d\",instance=\"i%d\"} %.0f %d\n", fam.name, i%20, i, v, ts.Unix())
				samples++
			}
		}
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data := filepath.Join(dir, "data")
	began := time.Now()
	if out, err := exec.Command(binary(t, "promtool"), "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", om, data).CombinedOutput(); err != nil {
		t.Fatalf("backfill: %v\n%s", err, out)
	}
	t.Logf("backfilled %d samples in %v", samples, time.Since(began).Round(time.Second))
	os.Remove(om)
	cfg := filepath.Join(dir, "prometheus.yml")
	_ = os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o600)
	port := freePort(t)
	startPrometheusAt(t, cfg, data, port)
	memwatch := buildMemwatch(t)
	cmd := exec.Command(memwatch, "scan", "--prometheus", "http://"+addr(port), "--range", "7d", "--step", "1m")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began = time.Now()
	err = cmd.Run()
	wall := time.Since(began)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("scan: %v\n%s", err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	t.Logf("scan of %d series, %d samples over 7 days at 1m: wall %v, CPU %v user + %v system, peak RSS %d MiB\n%s",
		3*instances, samples, wall.Round(time.Millisecond),
		time.Duration(ru.Utime.Nano()).Round(time.Millisecond), time.Duration(ru.Stime.Nano()).Round(time.Millisecond),
		ru.Maxrss>>10, stderr.String())
	if n := strings.Count(stdout.String(), "\n") - 1; n < instances/50 {
		t.Errorf("%d findings, want the %d leaking instances'\n%s", n, instances/50+1, stdout.String())
	}
}
