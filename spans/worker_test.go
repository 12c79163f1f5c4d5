package spans

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/internal/testutil/fakeclock"
	"github.com/memwatch/memwatch/internal/testutil/fstree"
)

// childModeEnv makes the test binary act as a worker (see TestMain).
const childModeEnv = "MEMWATCH_SPANS_TEST_CHILD"

// eventsFileEnv names the fake cgroup's memory.events for the oom-kill
// child.
const eventsFileEnv = "MEMWATCH_SPANS_TEST_EVENTS"

// childReport is what the child prints about the span it recorded.
type childReport struct {
	TraceID      string `json:"trace_id"`
	ParentSpanID string `json:"parent_span_id"`
	Remote       bool   `json:"parent_remote"`
}

// runChild is the worker side of the tests.
func runChild(mode string) int {
	switch mode {
	case "alloc64":
		// Continue the parent's trace with one call, do 64 MiB of real
		// work, and report the span for the parent to check.
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		ctx := ContextFromEnv(context.Background())
		var keep []byte
		_ = Track(ctx, "parse replay", func(context.Context) error {
			keep = touchedBytes(64 * mib)
			return nil
		}, WithTracerProvider(tp))
		runtime.KeepAlive(keep)
		s := rec.Ended()[0]
		_ = json.NewEncoder(os.Stdout).Encode(childReport{
			TraceID:      s.SpanContext().TraceID().String(),
			ParentSpanID: s.Parent().SpanID().String(),
			Remote:       s.Parent().IsRemote(),
		})
		return 0
	case "big-parent":
		// Hold 300 MiB, run a small worker, sample it once, and report
		// the worker span's peak.
		held := touchedBytes(300 * mib)
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		clk := fakeclock.New(time.Now())
		cmd := child("wait-stdin")
		stdin, _ := cmd.StdinPipe()
		done := make(chan error, 1)
		go func() { done <- TrackCmd(context.Background(), cmd, WithTracerProvider(tp), withClock(clk)) }()
		clk.Fire(time.Second)
		clk.Fire(time.Second) // the first sample is done once this is taken
		stdin.Close()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		runtime.KeepAlive(held)
		a := rec.Ended()[0].Attributes()
		peak, _ := attr(a, attrWorkerRSSPeak)
		source, _ := attr(a, attrWorkerRSSPeakSource)
		_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"Peak": peak.AsInt64(), "Source": source.AsString()})
		return 0
	case "wait-stdin":
		// Stay alive until the parent closes stdin.
		_, _ = io.Copy(io.Discard, os.Stdin)
		return 0
	case "exit3":
		return 3
	case "oom-kill":
		// What the OOM killer does: the cgroup counts an oom_kill and the
		// process dies by SIGKILL.
		_ = os.WriteFile(os.Getenv(eventsFileEnv), []byte("low 0\nhigh 0\nmax 1\noom 1\noom_kill 1\n"), 0o644)
		killSelf()
		time.Sleep(time.Minute) // not reached
		return 0
	case "kill-self":
		killSelf()
		time.Sleep(time.Minute) // not reached
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown child mode", mode)
	return 2
}

// child returns a command re-executing this test binary in mode.
func child(mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childModeEnv+"="+mode)
	return cmd
}

func TestWorkerContinuesTheTraceAndReportsPeakRSS(t *testing.T) {
	rec, tp := newRecorder(t)
	ctx, parent := Start(context.Background(), "process replays", WithTracerProvider(tp))
	cmd := child("alloc64")
	var out strings.Builder
	cmd.Stdout = &out
	if err := TrackCmd(ctx, cmd, WithSpanName("parse worker")); err != nil {
		t.Fatalf("TrackCmd: %v", err)
	}
	parent.End(nil)

	job := rec.Ended()[0]
	if job.Name() != "parse worker" || job.Parent().SpanID() != parent.Span().SpanContext().SpanID() {
		t.Fatalf("job span %q is not a child of the operation", job.Name())
	}
	a := job.Attributes()
	if pid := intAttr(t, a, semconv.ProcessPIDKey); pid != int64(cmd.Process.Pid) {
		t.Errorf("process.pid = %d, want %d", pid, cmd.Process.Pid)
	}
	if code := intAttr(t, a, semconv.ProcessExitCodeKey); code != 0 {
		t.Errorf("process.exit.code = %d", code)
	}
	if peak := intAttr(t, a, attrWorkerRSSPeak); peak < 64*mib {
		t.Errorf("peak RSS %d MiB, want at least the 64 MiB the child wrote", peak/mib)
	}
	if job.Status().Code != codes.Unset {
		t.Errorf("status %+v", job.Status())
	}

	var got childReport
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("child printed %q: %v", out.String(), err)
	}
	if got.TraceID != job.SpanContext().TraceID().String() {
		t.Errorf("child trace %s, parent trace %s", got.TraceID, job.SpanContext().TraceID())
	}
	if got.ParentSpanID != job.SpanContext().SpanID().String() || !got.Remote {
		t.Errorf("child's parent span %s (remote %v), want the job span %s", got.ParentSpanID, got.Remote, job.SpanContext().SpanID())
	}
}

// withClock makes the worker's RSS sampler tick when the test fires the
// clock's 1-s ticker.
func withClock(c *fakeclock.Clock) CmdOption {
	return option(func(cfg *config) { cfg.clock = c })
}

// TestWorkerRSSIsSampledWhileItRuns ticks the sampler twice while the child
// is alive (it waits for stdin to close): two sample events, and a sampled
// maximum.
func TestWorkerRSSIsSampledWhileItRuns(t *testing.T) {
	rec, tp := newRecorder(t)
	clk := fakeclock.New(time.Now())
	cmd := child("wait-stdin")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- TrackCmd(context.Background(), cmd, WithTracerProvider(tp), withClock(clk)) }()
	// Each send returns once the watcher took the tick; it samples before
	// taking the next one, so both samples happen while the child waits.
	clk.Fire(time.Second)
	clk.Fire(time.Second)
	clk.Fire(time.Second) // the second sample is done once this is taken
	stdin.Close()
	if err := <-done; err != nil {
		t.Fatalf("TrackCmd: %v", err)
	}
	job := rec.Ended()[0]
	var samples int
	for _, e := range job.Events() {
		if e.Name == eventWorkerRSS {
			samples++
			if rss := intAttr(t, e.Attributes, attrWorkerRSS); rss <= 0 {
				t.Errorf("sample RSS %d", rss)
			}
		}
	}
	if samples != 3 || intAttr(t, job.Attributes(), attrWorkerRSSSamples) != 3 {
		t.Errorf("%d sample events, %v; want 3", samples, job.Attributes())
	}
	if max := intAttr(t, job.Attributes(), attrWorkerRSSSampleMax); max <= 0 {
		t.Errorf("sampled max %d", max)
	}
}

func TestWorkerFailures(t *testing.T) {
	tests := []struct {
		name       string
		cmd        *exec.Cmd
		wantStatus string
		check      func(t *testing.T, err error, s sdktrace.ReadOnlySpan)
	}{
		{
			name:       "cannot start",
			cmd:        exec.Command("/nonexistent/memwatch-worker"),
			wantStatus: "worker did not start",
			check: func(t *testing.T, err error, s sdktrace.ReadOnlySpan) {
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("error %v, want not-exist", err)
				}
			},
		},
		{
			name:       "exit code",
			cmd:        child("exit3"),
			wantStatus: "worker failed: exit status 3",
			check: func(t *testing.T, err error, s sdktrace.ReadOnlySpan) {
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 3 {
					t.Errorf("error %v, want exit status 3", err)
				}
				if code := intAttr(t, s.Attributes(), semconv.ProcessExitCodeKey); code != 3 {
					t.Errorf("process.exit.code = %d", code)
				}
			},
		},
		{
			name:       "killed by a signal",
			cmd:        child("kill-self"),
			wantStatus: "worker killed by signal killed",
			check: func(t *testing.T, err error, s sdktrace.ReadOnlySpan) {
				if err == nil {
					t.Error("no error for a killed worker")
				}
				if v, _ := attr(s.Attributes(), attrWorkerSignal); v.AsString() != "killed" {
					t.Errorf("signal attribute %v", s.Attributes())
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, tp := newRecorder(t)
			err := TrackCmd(context.Background(), tt.cmd, WithTracerProvider(tp))
			ended := rec.Ended()
			if len(ended) != 1 {
				t.Fatalf("%d spans", len(ended))
			}
			s := ended[0]
			if s.Status().Code != codes.Error || !strings.HasPrefix(s.Status().Description, tt.wantStatus) {
				t.Errorf("status %+v, want error %q", s.Status(), tt.wantStatus)
			}
			tt.check(t, err, s)
		})
	}
}

func TestTrackCmdBadInput(t *testing.T) {
	if err := TrackCmd(context.Background(), nil); err == nil {
		t.Error("nil cmd accepted")
	}
	cmd := child("exit3")
	if err := TrackCmd(context.Background(), cmd, WithSampleInterval(0)); err == nil || !strings.Contains(err.Error(), "WithSampleInterval(0s)") {
		t.Errorf("bad interval: %v", err)
	}
	if cmd.Process != nil {
		t.Error("the command ran despite a bad option")
	}
}

func TestContextFromEnv(t *testing.T) {
	t.Setenv("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	t.Setenv("BAGGAGE", "tenant=acme")
	ctx := ContextFromEnv(context.Background())
	sc := trace.SpanContextFromContext(ctx)
	if sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || sc.SpanID().String() != "00f067aa0ba902b7" || !sc.IsRemote() {
		t.Errorf("span context %+v, want the TRACEPARENT's, remote", sc)
	}
	if v := baggage.FromContext(ctx).Member("tenant").Value(); v != "acme" {
		t.Errorf("baggage tenant = %q", v)
	}
	t.Setenv("TRACEPARENT", "")
	if sc := trace.SpanContextFromContext(ContextFromEnv(context.Background())); sc.IsValid() {
		t.Errorf("span context %+v from an empty environment", sc)
	}
}

// withFSRoot makes TrackCmd read the cgroup under root.
func withFSRoot(root string) CmdOption {
	return option(func(c *config) { c.fsRoot = root })
}

// TestOOMKilledWorker: a worker killed by SIGKILL while its cgroup's
// oom_kill count rose is marked OOM-killed; one killed by SIGKILL without
// it is not.
func TestOOMKilledWorker(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no signals")
	}
	root := fstree.Write(t, map[string]string{
		"proc/self/cgroup":                "0::/app\n",
		"proc/self/mountinfo":             "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
		"sys/fs/cgroup/app/memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
		"sys/fs/cgroup/app/cgroup.procs":  "1\n",
	})
	for _, tt := range []struct {
		mode string
		oom  bool
	}{{"kill-self", false}, {"oom-kill", true}} {
		t.Run(tt.mode, func(t *testing.T) {
			rec, tp := newRecorder(t)
			cmd := child(tt.mode)
			cmd.Env = append(cmd.Env, eventsFileEnv+"="+filepath.Join(root, "sys/fs/cgroup/app/memory.events"))
			if err := TrackCmd(context.Background(), cmd, WithTracerProvider(tp), withFSRoot(root)); err == nil {
				t.Fatal("no error for a killed worker")
			}
			s := rec.Ended()[0]
			v, marked := attr(s.Attributes(), attrWorkerOOMKilled)
			if marked != tt.oom || (marked && !v.AsBool()) {
				t.Errorf("oom_killed attribute %v (present %v), want present %v", v, marked, tt.oom)
			}
			if got := strings.Contains(s.Status().Description, "OOM killer"); got != tt.oom {
				t.Errorf("status %q", s.Status().Description)
			}
		})
	}
}

// TestWorkerPeakIsTheChildsOwn: a small worker of a parent that holds
// 300 MiB more (a child of ours, so this process's own peak stays as the
// other tests expect) reports its own few MiB as rss_peak, from its
// high-water mark, not the parent's memory from rusage.
func TestWorkerPeakIsTheChildsOwn(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the high-water mark is read from /proc")
	}
	out, err := child("big-parent").Output()
	if err != nil {
		t.Fatalf("big-parent: %v", err)
	}
	var got struct {
		Peak   int64
		Source string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("big-parent printed %q: %v", out, err)
	}
	if got.Peak <= 0 || got.Peak > 150*mib || got.Source != "high_water_mark" {
		t.Errorf("rss_peak %d MiB from %q, want the worker's own few MiB from its high_water_mark (its parent holds 300)", got.Peak/mib, got.Source)
	}
}

// TestWorkerStoppedWhenContextEnds: a child of exec.Command (which
// ignores contexts) is stopped when TrackCmd's context is cancelled.
func TestWorkerStoppedWhenContextEnds(t *testing.T) {
	_, tp := newRecorder(t)
	cmd := child("wait-stdin")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := TrackCmd(ctx, cmd, WithTracerProvider(tp)); err == nil || !sigkilled(cmd.ProcessState) {
		t.Errorf("TrackCmd = %v (state %v), want the child killed", err, cmd.ProcessState)
	}
}
