package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	composecli "github.com/compose-spec/compose-go/v2/cli"
	composetypes "github.com/compose-spec/compose-go/v2/types"
)

type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		TraceID       string `json:"traceID"`
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		References    []struct {
			RefType string `json:"refType"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		StartTime int64 `json:"startTime"`
		Tags      []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
		Logs []struct {
			Fields []struct {
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"fields"`
		} `json:"logs"`
		ProcessID string `json:"processID"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

type backends struct {
	jaegerQuery, tempoQuery, prometheus int
	collectorHTTP, collectorGRPC        int
	collector                           *proc
	collectorEnv                        []string
}

// traces asks a Jaeger query API for the traces of service and operation.
func traces(queryPort int, service, operation string) ([]jaegerTrace, error) {
	var resp struct {
		Data []jaegerTrace `json:"data"`
	}
	u := fmt.Sprintf("http://%s/api/traces?service=%s&operation=%s&limit=20&lookback=1h", addr(queryPort), url.QueryEscape(service), url.PathEscape(operation))
	if err := getJSON(u, &resp); err != nil {
		return nil, err
	}
	if len(resp.Data) == 0 {
		return nil, fmt.Errorf("no %s/%s traces yet", service, operation)
	}
	return resp.Data, nil
}

// promQuery runs an instant query and returns the result's samples.
func promQuery(port int, query string) ([]promSample, error) {
	var resp struct {
		Data struct {
			Result []promSample `json:"result"`
		} `json:"data"`
	}
	u := fmt.Sprintf("http://%s/api/v1/query?query=%s", addr(port), url.QueryEscape(query))
	if err := getJSON(u, &resp); err != nil {
		return nil, err
	}
	if len(resp.Data.Result) == 0 {
		return nil, fmt.Errorf("%s: no result yet", query)
	}
	return resp.Data.Result, nil
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) float() float64 {
	v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
	return v
}

// machineLacks says why a query's metrics cannot exist on this machine:
// the cgroup metrics need a readable memory cgroup, the pressure metrics
// PSI. "" when they can.
func machineLacks(q string) string {
	switch {
	case strings.Contains(q, "memwatch_cgroup_") && !hasMemoryCgroup():
		return "no readable memory cgroup"
	case strings.Contains(q, "memwatch_memory_pressure_") && !hasPSI():
		return "no PSI"
	}
	return ""
}

func hasPSI() bool {
	_, err := os.Stat("/proc/pressure/memory")
	return err == nil
}

// hasMemoryCgroup looks for this process's cgroup memory usage file where
// the usual mounts put it (v2 at /sys/fs/cgroup, v1 at
// /sys/fs/cgroup/memory).
func hasMemoryCgroup() bool {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		var p string
		switch {
		case f[0] == "0" && f[1] == "":
			p = filepath.Join("/sys/fs/cgroup", f[2], "memory.current")
		case slices.Contains(strings.Split(f[1], ","), "memory"):
			p = filepath.Join("/sys/fs/cgroup/memory", f[2], "memory.usage_in_bytes")
		default:
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// dashboardQueries returns the Prometheus queries of the provisioned
// dashboard, with its service variable matching everything.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "grafana", "dashboards", "memwatch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Datasource struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var qs []string
	for _, p := range dash.Panels {
		if p.Datasource.UID != "prometheus" {
			continue
		}
		for _, tg := range p.Targets {
			qs = append(qs, strings.ReplaceAll(tg.Expr, "$service", ".*"))
		}
	}
	if len(qs) == 0 {
		t.Fatal("the dashboard has no Prometheus queries")
	}
	return qs
}

func buildExamples(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command("go", "build", "-o", out+string(os.PathSeparator), "./examples/workers", "./examples/leak", "./examples/quickstart")
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build examples: %v\n%s", err, b)
	}
	return out
}

func startJaeger(t *testing.T, name string) (query, otlp int) {
	query, otlp = freePort(t), freePort(t)
	grpcQuery, health := freePort(t), freePort(t)
	start(t, name, []int{query, otlp, grpcQuery, health}, []string{
		"JAEGER_QUERY_ENDPOINT=" + addr(query),
		"JAEGER_QUERY_GRPC_ENDPOINT=" + addr(grpcQuery),
		"JAEGER_OTLP_ENDPOINT=" + addr(otlp),
		"JAEGER_HEALTH_ENDPOINT=" + addr(health),
	}, binary(t, "jaeger"), "--config", filepath.Join(repoRoot(t), "e2e", "jaeger-config.yaml"))
	eventually(t, name+" query API", time.Minute, func() error {
		return getJSON(fmt.Sprintf("http://%s/api/services", addr(query)), nil)
	})
	return query, otlp
}

func startPrometheus(t *testing.T) int {
	port := freePort(t)
	root := repoRoot(t)
	cfg, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// The deployed configuration, with a short evaluation interval and the
	// rules read from the repository.
	text := strings.Replace(string(cfg), "evaluation_interval: 15s", "evaluation_interval: 5s", 1)
	text = strings.Replace(text, "/etc/prometheus/rules/", filepath.Join(root, "deploy", "prometheus", "rules")+"/", 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, "prometheus", []int{port}, nil, binary(t, "prometheus"),
		"--config.file="+path, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr(port), "--web.enable-otlp-receiver")
	eventually(t, "prometheus ready", time.Minute, func() error {
		return getJSON(fmt.Sprintf("http://%s/-/ready", addr(port)), nil)
	})
	return port
}

func (b *backends) startCollector(t *testing.T) {
	b.collector = start(t, "collector", []int{b.collectorGRPC, b.collectorHTTP}, b.collectorEnv,
		binary(t, "otelcol-memwatch"), "--config="+filepath.Join(repoRoot(t), "collector-config.yaml"))
	health := strings.TrimPrefix(b.collectorEnv[0], "MEMWATCH_HEALTH_ENDPOINT=")
	eventually(t, "collector health", time.Minute, func() error {
		return getJSON("http://"+health+"/", nil)
	})
}

func TestEndToEnd(t *testing.T) {
	var allPorts []int
	// Registered first, so it runs last: every process is stopped by then.
	t.Cleanup(func() {
		for _, p := range allPorts {
			if !portFree(p) {
				t.Errorf("port %d still bound after the test", p)
			}
		}
	})
	root := repoRoot(t)
	bin := buildExamples(t)

	b := &backends{collectorHTTP: freePort(t), collectorGRPC: freePort(t)}
	health := freePort(t)

	t.Run("validate configuration", func(t *testing.T) {
		cmd := exec.Command(binary(t, "otelcol-memwatch"), "validate", "--config="+filepath.Join(root, "collector-config.yaml"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("collector validate: %v\n%s", err, out)
		}
		// No default secret: without GRAFANA_ADMIN_PASSWORD Compose refuses
		// the file; with it, anonymous visitors are Viewers. compose-go is
		// the loader Docker Compose itself uses.
		compose := func(password string) (*composetypes.Project, error) {
			opts, err := composecli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
				composecli.WithEnv([]string{"GRAFANA_ADMIN_PASSWORD=" + password}), composecli.WithName("memwatch"))
			if err != nil {
				return nil, err
			}
			return opts.LoadProject(context.Background())
		}
		if _, err := compose(""); err == nil || !strings.Contains(err.Error(), "GRAFANA_ADMIN_PASSWORD") {
			t.Errorf("docker-compose.yml loaded with an empty GRAFANA_ADMIN_PASSWORD (%v), want it refused naming the variable", err)
		}
		project, err := compose("e2e-only")
		if err != nil {
			t.Fatalf("docker-compose.yml: %v", err)
		}
		grafana, err := project.GetService("grafana")
		if err != nil {
			t.Fatal(err)
		}
		if role := grafana.Environment["GF_AUTH_ANONYMOUS_ORG_ROLE"]; role == nil || *role != "Viewer" {
			t.Errorf("anonymous Grafana users are %v, want Viewer", role)
		}
		// The Compose Collector is otelcol-memwatch, built from the
		// manifest the end-to-end tests build, with the host's root for
		// hostmetrics.
		collector, err := project.GetService("collector")
		if err != nil {
			t.Fatal(err)
		}
		if collector.Build == nil || collector.Build.Dockerfile != "collector/Dockerfile" {
			t.Errorf("the Compose Collector's build %+v, want collector/Dockerfile", collector.Build)
		} else if df, err := os.ReadFile(filepath.Join(root, "collector", "Dockerfile")); err != nil || !strings.Contains(string(df), "ocb --config builder-config.yaml") {
			t.Errorf("collector/Dockerfile does not build collector/builder-config.yaml (%v)", err)
		}
		if root := collector.Environment["MEMWATCH_HOST_ROOT"]; root == nil || *root != "/hostfs" {
			t.Errorf("the Compose Collector's MEMWATCH_HOST_ROOT %v, want /hostfs", root)
		}
		// Run by hand, the Collector listens on loopback only.
		cfg, err := os.ReadFile(filepath.Join(root, "collector-config.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"MEMWATCH_OTLP_GRPC_ENDPOINT:-127.0.0.1:", "MEMWATCH_OTLP_HTTP_ENDPOINT:-127.0.0.1:", "MEMWATCH_HEALTH_ENDPOINT:-127.0.0.1:"} {
			if !strings.Contains(string(cfg), v) {
				t.Errorf("collector-config.yaml lacks the loopback default %s", v)
			}
		}
		rules := filepath.Join(root, "deploy", "prometheus", "rules")
		for _, args := range [][]string{
			{"check", "rules", filepath.Join(rules, "memwatch.rules.yml")},
			{"test", "rules", filepath.Join(rules, "memwatch.rules.test.yml")},
		} {
			if out, err := exec.Command(binary(t, "promtool"), args...).CombinedOutput(); err != nil {
				t.Errorf("promtool %v: %v\n%s", args, err, out)
			}
		}
	})

	jaegerQuery, jaegerOTLP := startJaeger(t, "jaeger")
	tempoQuery, tempoOTLP := startJaeger(t, "tempo-standin")
	promPort := startPrometheus(t)
	logs := startLogSink(t)
	b.jaegerQuery, b.tempoQuery, b.prometheus = jaegerQuery, tempoQuery, promPort
	b.collectorEnv = []string{
		"MEMWATCH_HEALTH_ENDPOINT=" + addr(health),
		"MEMWATCH_OTLP_GRPC_ENDPOINT=" + addr(b.collectorGRPC),
		"MEMWATCH_OTLP_HTTP_ENDPOINT=" + addr(b.collectorHTTP),
		"MEMWATCH_JAEGER_OTLP_ENDPOINT=" + addr(jaegerOTLP),
		"MEMWATCH_TEMPO_OTLP_ENDPOINT=" + addr(tempoOTLP),
		"MEMWATCH_PROMETHEUS_OTLP_ENDPOINT=http://" + addr(promPort) + "/api/v1/otlp/v1/metrics",
		"MEMWATCH_LOGS_OTLP_ENDPOINT=http://" + addr(logs.port),
		"MEMWATCH_STORAGE_DIR=" + t.TempDir(),
	}
	b.startCollector(t)
	allPorts = append(allPorts, jaegerQuery, jaegerOTLP, tempoQuery, tempoOTLP, promPort, b.collectorHTTP, b.collectorGRPC, health)

	exampleEnv := []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + addr(b.collectorHTTP),
		"OTEL_METRIC_EXPORT_INTERVAL=2000",
		"OTEL_BSP_SCHEDULE_DELAY=500",
	}

	t.Run("workers: startup phases and subprocess spans in Jaeger and Tempo", func(t *testing.T) {
		w := start(t, "workers", nil, exampleEnv, filepath.Join(bin, "workers"), "-rounds", "1")
		if err := w.wait(t, 2*time.Minute); err != nil {
			t.Fatalf("workers example: %v", err)
		}
		for _, q := range []int{b.jaegerQuery, b.tempoQuery} {
			var startup []jaegerTrace
			eventually(t, "startup trace", time.Minute, func() (err error) {
				startup, err = traces(q, "memwatch-workers", "startup")
				return err
			})
			checkStartup(t, startup[0])
		}
		var parse []jaegerTrace
		eventually(t, "worker trace", time.Minute, func() (err error) {
			parse, err = traces(b.jaegerQuery, "memwatch-workers-parse", "parse")
			return err
		})
		checkWorkerJoinsParent(t, parse[0])
	})

	leak := start(t, "leak", nil, append(exampleEnv, "OTEL_SERVICE_NAME=memwatch-leak"), filepath.Join(bin, "leak"), "-keep-running", "-duration", "6m", "-log-events")

	t.Run("leak: finding span in Jaeger, its events as log records through the Collector", func(t *testing.T) {
		var found []jaegerTrace
		eventually(t, "memwatch.leak trace", 3*time.Minute, func() (err error) {
			found, err = traces(b.jaegerQuery, "memwatch-leak", "memwatch.leak")
			return err
		})
		eventually(t, "memwatch.leak.gc log record", time.Minute, func() error {
			if len(logs.events("memwatch.leak.gc")) == 0 {
				return errors.New("not yet")
			}
			return nil
		})
		checkLeakEvents(t, found[0], logs)
	})

	t.Run("prometheus: metric names and a value the process reported", func(t *testing.T) {
		for _, name := range []string{
			"process_memory_usage_bytes", "process_memory_virtual_bytes", "memwatch_memory_utilization_ratio",
			"memwatch_memory_limit_bytes", "memwatch_heap_live_bytes", "memwatch_heap_objects",
			"memwatch_gc_cycles_total", "memwatch_memory_baseline_bytes", "memwatch_memory_growth_bytes",
			"memwatch_leak_suspected", "memwatch_leak_growth_rate_bytes_per_hour", "memwatch_leak_findings_total",
			"memwatch_leak_time_to_limit_seconds", "memwatch_gc_cpu_utilization_ratio",
			"memwatch_cgroup_memory_usage_bytes", "memwatch_cgroup_memory_working_set_bytes",
			"memwatch_cgroup_memory_utilization_ratio", "memwatch_cgroup_memory_events_total",
			"memwatch_memory_pressure_stall_time_seconds_total", "memwatch_memory_pressure_avg10_ratio",
			"go_goroutine_count", "go_memory_used_bytes",
		} {
			if why := machineLacks(name); why != "" {
				t.Logf("%s not checked on this machine: %s", name, why)
				continue
			}
			eventually(t, name, time.Minute, func() error {
				_, err := promQuery(b.prometheus, name+`{job="memwatch-leak"}`)
				return err
			})
		}
		// RSS in Prometheus against /proc of the process, read together. The
		// example grows by under 1 MB a second and exports every 2 s, so 64
		// MiB covers export lag and scrape alignment.
		var got float64
		eventually(t, "RSS matches /proc", time.Minute, func() error {
			s, err := promQuery(b.prometheus, `process_memory_usage_bytes{job="memwatch-leak"}`)
			if err != nil {
				return err
			}
			got = s[0].float()
			if want := float64(leak.rss(t)); got < want-64<<20 || got > want+64<<20 {
				return fmt.Errorf("Prometheus says RSS %.0f, /proc says %.0f", got, want)
			}
			return nil
		})
	})

	t.Run("grafana: every dashboard query has data", func(t *testing.T) {
		for _, q := range dashboardQueries(t) {
			if why := machineLacks(q); why != "" {
				t.Logf("not checked on this machine (%s): %s", why, q)
				continue
			}
			eventually(t, "dashboard query "+q, 2*time.Minute, func() error {
				_, err := promQuery(b.prometheus, q)
				return err
			})
		}
	})

	t.Run("prometheus: the leak alert fires", func(t *testing.T) {
		eventually(t, "MemoryLeakSuspected firing", 4*time.Minute, func() error {
			var resp struct {
				Data struct {
					Alerts []struct {
						Labels map[string]string `json:"labels"`
						State  string            `json:"state"`
					} `json:"alerts"`
				} `json:"data"`
			}
			if err := getJSON(fmt.Sprintf("http://%s/api/v1/alerts", addr(b.prometheus)), &resp); err != nil {
				return err
			}
			for _, a := range resp.Data.Alerts {
				if a.Labels["alertname"] == "MemoryLeakSuspected" && a.Labels["job"] == "memwatch-leak" && a.State == "firing" {
					return nil
				}
			}
			return fmt.Errorf("alerts: %+v", resp.Data.Alerts)
		})
	})
	leak.stop()

	t.Run("faults: collector down for 30 s", func(t *testing.T) { checkOutage(t, b, bin, exampleEnv) })
	t.Run("faults: malformed and unreachable endpoints", func(t *testing.T) {
		for _, tt := range []struct{ endpoint, want string }{
			{"::not a url", "unusable"},
			{"http://" + addr(freePort(t)), "opentelemetry error"},
		} {
			q := start(t, "quickstart", nil, []string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + tt.endpoint, "OTEL_METRIC_EXPORT_INTERVAL=500"},
				filepath.Join(bin, "quickstart"), "-duration", "3s", "-period", "1s")
			if err := q.wait(t, time.Minute); err != nil {
				t.Errorf("quickstart with endpoint %q failed: %v", tt.endpoint, err)
			}
			out := q.output(t)
			if !strings.Contains(out, tt.want) || !strings.Contains(out, "MEMORY USAGE REPORT") {
				t.Errorf("quickstart with endpoint %q: output lacks %q or the report:\n%s", tt.endpoint, tt.want, tail([]byte(out), 2000))
			}
		}
	})
}
