package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// fleetInstance is one process of the backfilled fleet: its metric names
// (memwatch's or client_golang's) and what its memory does.
type fleetInstance struct {
	job, instance string
	heapName      string // live heap or heap in use
	rssName       string
	heapLeak      float64 // bytes an hour, from 24 hours before the end
	rssLeak       float64
}

var fleet = []fleetInstance{
	{"shop", "shop-1", "memwatch_heap_live_bytes", "process_memory_usage_bytes", 20e6, 0},
	{"shop", "shop-2", "memwatch_heap_live_bytes", "process_memory_usage_bytes", 0, 0},
	{"web", "web-1", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", 0, 30e6},
	{"web", "web-2", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", 0, 0},
	{"web", "web-3", "go_memstats_heap_inuse_bytes", "process_resident_memory_bytes", 0, 0},
}

// writeFleet writes two days of the fleet at one sample a minute, ending
// at end, as OpenMetrics for promtool's backfill: 2% noise, a heap of
// 200 MB and RSS of 300 MB, plus the leaks.
func writeFleet(t *testing.T, path string, end time.Time) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	start := end.Add(-48 * time.Hour)
	byName := map[string][]fleetInstance{}
	for _, in := range fleet {
		byName[in.heapName] = append(byName[in.heapName], in)
		byName[in.rssName] = append(byName[in.rssName], in)
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "# TYPE %s gauge\n", name)
		for i, in := range byName[name] {
			base, leak := 200e6, in.heapLeak
			if name == in.rssName {
				base, leak = 300e6, in.rssLeak
			}
			for ts := start; !ts.After(end); ts = ts.Add(time.Minute) {
				v := base * (1 + 0.02*noise(name, i, ts))
				if since := ts.Sub(end.Add(-24 * time.Hour)); since > 0 {
					v += leak * since.Hours()
				}
				fmt.Fprintf(w, "%s{job=%q,instance=%q} %.0f %d\n", name, in.job, in.instance, v, ts.Unix())
			}
		}
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// noise is a deterministic value in [-1.7, 1.7] with unit variance-ish.
func noise(name string, i int, ts time.Time) float64 {
	h := uint64(ts.Unix())*0x9E3779B97F4A7C15 ^ uint64(len(name)*131+i)*0xBF58476D1CE4E5B9
	h ^= h >> 31
	h *= 0x94D049BB133111EB
	h ^= h >> 29
	return (float64(h%1_000_000)/1_000_000 - 0.5) * 2 * math.Sqrt(3) / 1
}

// TestScanFleet backfills a fleet's history into a real Prometheus
// (promtool tsdb create-blocks-from openmetrics) and runs memwatch scan
// over it: exactly the leaking instances are flagged, with their signals;
// --json parses; a selector narrows; one that matches nothing is an error.
func TestScanFleet(t *testing.T) {
	dir := t.TempDir()
	end := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	om := filepath.Join(dir, "fleet.om")
	writeFleet(t, om, end)
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(binary(t, "promtool"), "tsdb", "create-blocks-from", "openmetrics", om, data).CombinedOutput(); err != nil {
		t.Fatalf("backfill: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	startPrometheusAt(t, cfg, data, port)
	memwatch := buildMemwatch(t)
	url := "http://" + addr(port)
	scan := func(args ...string) (int, string, string) {
		cmd := exec.Command(memwatch, append([]string{"scan", "--prometheus", url, "--range", "2d", "--json"}, args...)...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, stdout.String(), stderr.String()
	}

	code, out, errOut := scan("--plot", filepath.Join(dir, "plots"))
	if code != 1 {
		t.Fatalf("scan exit %d, want 1 (leaks found)\n%s\n%s", code, out, errOut)
	}
	flagged := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct {
			Service, Instance, Signal, Reason string
			FirstSeen                         time.Time `json:"first_seen"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("--json line %q: %v", line, err)
		}
		flagged[r.Service+"/"+r.Instance] = r.Signal
		if r.FirstSeen.Before(end.Add(-24 * time.Hour)) {
			t.Errorf("%s flagged at %v, before its leak began", r.Instance, r.FirstSeen)
		}
	}
	if len(flagged) != 2 || flagged["shop/shop-1"] != "heap_live" || flagged["web/web-1"] != "rss" {
		t.Errorf("flagged %v, want shop-1 (heap_live) and web-1 (rss) only\n%s", flagged, errOut)
	}
	if !strings.Contains(errOut, "of 5 instances") {
		t.Errorf("summary %q: want the 5 instances", errOut)
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "plots", "*.png"))
	if len(pngs) != 2 {
		t.Errorf("plots %v, want one per flagged series", pngs)
	}
	for _, p := range pngs {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		f.Close()
	}

	if code, out, _ := scan("--selector", `{job="web"}`); code != 1 || strings.Contains(out, "shop") || !strings.Contains(out, "web-1") {
		t.Errorf("--selector {job=\"web\"}: exit %d, %s", code, out)
	}
	if code, _, errOut := scan("--selector", `{job="nothing"}`); code != 2 || !strings.Contains(errOut, "no memory series match") {
		t.Errorf("a selector matching nothing: exit %d, %s", code, errOut)
	}
}

// buildMemwatch builds cmd/memwatch from this repository.
func buildMemwatch(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "memwatch")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/memwatch")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build memwatch: %v\n%s", err, out)
	}
	return bin
}

// startPrometheusAt starts a Prometheus on a backfilled data directory.
func startPrometheusAt(t *testing.T, cfg, data string, port int) {
	t.Helper()
	start(t, "prometheus-fleet", []int{port}, nil, binary(t, "prometheus"),
		"--config.file="+cfg, "--storage.tsdb.path="+data, "--web.listen-address="+addr(port),
		"--storage.tsdb.retention.time=30d")
	eventually(t, "fleet prometheus ready", 2*time.Minute, func() error {
		return getJSON(fmt.Sprintf("http://%s/-/ready", addr(port)), nil)
	})
}
