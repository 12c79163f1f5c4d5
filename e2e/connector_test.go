package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// memhogs builds testdata/memhog under two names, leaky and steady, the
// executable names the hostmetrics process scraper reports.
func memhogs(t *testing.T) (leaky, steady string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"leaky", "steady"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./testdata/memhog")
		cmd.Dir = filepath.Join(repoRoot(t), "e2e")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build memhog: %v\n%s", err, out)
		}
	}
	return filepath.Join(dir, "leaky"), filepath.Join(dir, "steady")
}

// connectorConfig is a Collector configuration whose hostmetrics process
// scraper reads the leaky and steady processes every second into the
// leakdetect connector (60x time scale: an hour's evidence in a minute),
// whose findings go to the log sink.
func connectorConfig(t *testing.T, sink *logSink, health int) string {
	t.Helper()
	components := fmt.Sprintf(`receivers:
  hostmetrics:
    collection_interval: 1s
    scrapers:
      process:
        include:
          names: [leaky, steady]
          match_type: strict
        mute_process_name_error: true
        mute_process_exe_error: true
        mute_process_io_error: true
        mute_process_user_error: true
        mute_process_cgroup_error: true
connectors:
  leakdetect:
    time_scale: 60
exporters:
  otlphttp:
    logs_endpoint: http://%s/v1/logs
    compression: none
`, addr(sink.port))
	return writeConfig(t, "collector.yaml", components, health, nil, `    metrics:
      receivers: [hostmetrics]
      exporters: [leakdetect]
    logs:
      receivers: [leakdetect]
      exporters: [otlphttp]
`)
}

// writeConfig writes a Collector configuration of components and
// pipelines, with a health check on health and the extensions named in
// more (their configuration, keyed by name), its own telemetry off, and
// returns its path.
func writeConfig(t *testing.T, name, components string, health int, more map[string]string, pipelines string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(components)
	fmt.Fprintf(&b, "extensions:\n  health_check:\n    endpoint: %s\n", addr(health))
	names := []string{"health_check"}
	for n, cfg := range more {
		fmt.Fprintf(&b, "  %s:\n%s", n, cfg)
		names = append(names, n)
	}
	fmt.Fprintf(&b, "service:\n  extensions: [%s]\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n%s", strings.Join(names, ", "), pipelines)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConnectorFindsALeakingProcess: a process that does not use memwatch
// and leaks 1 MiB a second is reported by the leakdetect connector, from
// the hostmetrics process scraper's process.memory.usage, with its
// process.pid and process.executable.name; a steady process beside it is
// not.
func TestConnectorFindsALeakingProcess(t *testing.T) {
	leakyBin, steadyBin := memhogs(t)
	leaky := start(t, "leaky", nil, nil, leakyBin, "-base", "20", "-grow", strconv.Itoa(1<<20))
	steady := start(t, "steady", nil, nil, steadyBin, "-base", "40")
	sink := startLogSink(t)
	health := freePort(t)
	start(t, "collector-hostmetrics", []int{health}, nil, binary(t, "otelcol-memwatch"), "--config="+connectorConfig(t, sink, health))
	eventually(t, "collector health", time.Minute, func() error { return getJSON("http://"+addr(health)+"/", nil) })

	leakyPID := strconv.Itoa(leaky.cmd.Process.Pid)
	eventually(t, "a finding on the leaking process", 4*time.Minute, func() error {
		for _, r := range sink.events("memwatch.leak.suspected") {
			if r.resource["process.pid"] == leakyPID {
				return nil
			}
		}
		return fmt.Errorf("findings so far: %v", sink.events("memwatch.leak.suspected"))
	})
	// A minute more for the steady process to be wrongly flagged, were it.
	time.Sleep(time.Minute)
	steadyPID := strconv.Itoa(steady.cmd.Process.Pid)
	for _, r := range sink.events("memwatch.leak.suspected") {
		switch r.resource["process.pid"] {
		case leakyPID:
			if r.resource["process.executable.name"] != "leaky" || r.attrs["memwatch.leak.signal"] != "rss" ||
				r.attrs["memwatch.leak.metric"] != "process.memory.usage" {
				t.Errorf("finding on the leaky process: resource %v, attributes %v", r.resource, r.attrs)
			}
		case steadyPID:
			t.Errorf("finding on the steady process: %v", r.attrs)
		default:
			t.Errorf("finding on another process: %v %v", r.resource, r.attrs)
		}
	}
}

// backendConfig is a Collector that receives OTLP metrics (gRPC on grpc,
// HTTP on httpPort), runs the leakdetect connector at a 60x time scale,
// with file_storage in storageDir when set, and sends findings to sink.
func backendConfig(t *testing.T, grpc, httpPort, health int, storageDir string, sink *logSink) string {
	t.Helper()
	storage := ""
	var more map[string]string
	if storageDir != "" {
		storage = "\n    storage: file_storage\n    save_interval: 1s"
		more = map[string]string{"file_storage": "    directory: " + storageDir + "\n"}
	}
	components := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s
connectors:
  leakdetect:
    time_scale: 60%s
exporters:
  otlphttp:
    logs_endpoint: http://%s/v1/logs
    compression: none
`, addr(grpc), addr(httpPort), storage, addr(sink.port))
	return writeConfig(t, "backend.yaml", components, health, more, `    metrics:
      receivers: [otlp]
      exporters: [leakdetect]
    logs:
      receivers: [leakdetect]
      exporters: [otlphttp]
`)
}

func startBackend(t *testing.T, name, config string, health int) *proc {
	t.Helper()
	p := start(t, name, []int{health}, nil, binary(t, "otelcol-memwatch"), "--config="+config)
	eventually(t, name+" health", time.Minute, func() error { return getJSON("http://"+addr(health)+"/", nil) })
	return p
}

// TestConnectorRestartContinues: a connector Collector stopped with
// SIGTERM mid-run and started again on the same file_storage directory
// continues each stream from its saved state: its findings come at the
// times the analyzer gives the uninterrupted series, not after a new
// warm-up.
func TestConnectorRestartContinues(t *testing.T) {
	start0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	all := []series{makeSeries("leaking", start0, 600, 290, 1), makeSeries("flat", start0, 600, -1, 2)}
	want := all[0].expected(t, 60)
	if len(want) == 0 || !want[0].After(all[0].times[300]) {
		t.Fatalf("the analyzer finds %v; the test wants the leak found after the restart (point 300, %v)", want, all[0].times[300])
	}
	if f := all[1].expected(t, 60); len(f) > 0 {
		t.Fatalf("the flat series draws findings %v from the analyzer itself", f)
	}
	sink := startLogSink(t)
	dir := t.TempDir()
	grpc, httpPort, health := freePort(t), freePort(t), freePort(t)
	cfg := backendConfig(t, grpc, httpPort, health, dir, sink)
	first := startBackend(t, "connector-1", cfg, health)
	endpoint := "http://" + addr(httpPort) + "/v1/metrics"
	sendMetrics(t, endpoint, all, 0, 300)
	first.stop() // SIGTERM: the connector saves every stream
	if err := first.wait(t, time.Minute); err != nil {
		t.Fatalf("the Collector's exit after SIGTERM: %v", err)
	}
	startBackend(t, "connector-2", cfg, health)
	sendMetrics(t, endpoint, all, 300, 600)
	eventually(t, "the findings after the restart", time.Minute, func() error {
		if n := len(sink.events("memwatch.leak.suspected")); n < len(want) {
			return fmt.Errorf("%d findings, want %d", n, len(want))
		}
		return nil
	})
	var got []time.Time
	for _, r := range sink.events("memwatch.leak.suspected") {
		if r.resource["service.instance.id"] != "leaking" {
			t.Errorf("finding on %s", r.resource["service.instance.id"])
			continue
		}
		got = append(got, r.time)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings across the restart at %v; the uninterrupted series' at %v", got, want)
	}
}

// TestConnectorTwoTier: a front Collector routes metrics by resource with
// the loadbalancing exporter (static resolver) to two Collectors running
// the connector: every leaking stream is reported by exactly one of them,
// as often as the analyzer reports it, and no flat stream is. Each
// backend's queue has one consumer, so a stream's points arrive in order.
func TestConnectorTwoTier(t *testing.T) {
	start0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var all []series
	leaking := map[string][]time.Time{}
	for i := range 8 {
		leakAt := -1
		if i%2 == 0 {
			leakAt = 200
		}
		s := makeSeries(fmt.Sprintf("instance-%d", i), start0, 500, leakAt, uint64(10+i))
		all = append(all, s)
		if f := s.expected(t, 60); leakAt >= 0 {
			if len(f) == 0 {
				t.Fatalf("the analyzer does not find %s's leak", s.instance)
			}
			leaking[s.instance] = f
		} else if len(f) > 0 {
			t.Fatalf("the analyzer flags flat %s: %v", s.instance, f)
		}
	}
	var sinks [2]*logSink
	var backends [2]int
	for i := range sinks {
		sinks[i] = startLogSink(t)
		backends[i] = freePort(t)
		health := freePort(t)
		startBackend(t, fmt.Sprintf("connector-%d", i), backendConfig(t, backends[i], freePort(t), health, "", sinks[i]), health)
	}
	frontHTTP, frontHealth := freePort(t), freePort(t)
	front := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
exporters:
  loadbalancing:
    routing_key: resource
    protocol:
      otlp:
        tls:
          insecure: true
        sending_queue:
          num_consumers: 1
    resolver:
      static:
        hostnames: [%s, %s]
`, addr(frontHTTP), addr(backends[0]), addr(backends[1]))
	path := writeConfig(t, "front.yaml", front, frontHealth, nil, `    metrics:
      receivers: [otlp]
      exporters: [loadbalancing]
`)
	startBackend(t, "front", path, frontHealth)
	sendMetrics(t, "http://"+addr(frontHTTP)+"/v1/metrics", all, 0, 500)
	eventually(t, "every leaking stream reported", 2*time.Minute, func() error {
		for inst, want := range leaking {
			if n := len(findingsByInstance(sinks[0])[inst]) + len(findingsByInstance(sinks[1])[inst]); n < len(want) {
				return fmt.Errorf("%s: %d findings, want %d", inst, n, len(want))
			}
		}
		return nil
	})
	time.Sleep(5 * time.Second) // for a duplicate, were there one
	used := map[int]bool{}
	for _, s := range all {
		a, b := findingsByInstance(sinks[0])[s.instance], findingsByInstance(sinks[1])[s.instance]
		want := len(leaking[s.instance])
		switch {
		case len(a) > 0 && len(b) > 0:
			t.Errorf("%s reported by both backends: %v and %v", s.instance, a, b)
		case len(a)+len(b) != want:
			t.Errorf("%s: %d findings, want %d (the analyzer's)", s.instance, len(a)+len(b), want)
		case len(a) > 0:
			used[0] = true
		case len(b) > 0:
			used[1] = true
		}
	}
	if len(used) < 2 {
		t.Logf("every finding came from one backend (%v): the routing put all leaking streams on it", used)
	}
}
