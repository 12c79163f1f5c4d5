package main

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shirou/gopsutil/v3/process"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/internal/bytefmt"
	"github.com/memwatch/memwatch/leakdetect"
)

func watchCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("watch --pid N [flags]", stderr)
	pid := fs.Int("pid", 0, "the process to watch")
	interval := fs.Duration("interval", leakdetect.DefaultInterval, "how often to sample its resident memory")
	scale := fs.Float64("time-scale", 1, "run the analyzer's clock this many times faster (demos and tests)")
	if err := parseFlags(fs, args); err != nil {
		return exitError, err
	}
	if *pid <= 0 {
		return exitError, fmt.Errorf("--pid %d: want the PID of a running process", *pid)
	}
	if *interval <= 0 {
		return exitError, fmt.Errorf("--interval %v: must be positive", *interval)
	}
	proc, err := process.NewProcess(int32(*pid))
	if err != nil {
		return exitError, fmt.Errorf("--pid %d: no such process", *pid)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w, err := newWatcher(ctx, proc, *interval, *scale, stdout, stderr)
	if err != nil {
		return exitError, err
	}
	defer w.close()
	findings := w.loop(ctx)
	if findings > 0 {
		return exitLeak, nil
	}
	return exitClean, nil
}

func runCmd(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("run [flags] -- CMD [ARGS...]", stderr)
	interval := fs.Duration("interval", leakdetect.DefaultInterval, "how often to sample the child's resident memory")
	scale := fs.Float64("time-scale", 1, "run the analyzer's clock this many times faster (demos and tests)")
	if err := parseFlags(fs, args); err != nil {
		return exitError, err
	}
	if fs.NArg() == 0 {
		return exitError, errors.New("want a command after --: memwatch run -- CMD [ARGS...]")
	}
	if *interval <= 0 {
		return exitError, fmt.Errorf("--interval %v: must be positive", *interval)
	}
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		return exitError, fmt.Errorf("start %s: %w", fs.Arg(0), err)
	}
	// Signals meant for the child reach it; memwatch stays until it exits.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-exited
		cancel()
	}()
	proc, err := process.NewProcess(int32(cmd.Process.Pid))
	if err == nil {
		if w, err := newWatcher(ctx, proc, *interval, *scale, stdout, stderr); err == nil {
			w.loop(ctx)
			defer w.close()
		} else {
			fmt.Fprintf(stderr, "memwatch run: not watching: %v\n", err)
		}
	}
	<-exited
	state := cmd.ProcessState
	code := state.ExitCode()
	if sig, ok := signaled(state); ok {
		code = 128 + sig
	}
	peak := "unknown"
	if p, ok := peakRSS(state); ok {
		peak = bytefmt.Bytes(int64(p))
	}
	fmt.Fprintf(stderr, "memwatch run: %s exited with status %d, peak RSS %s\n", filepath.Base(fs.Arg(0)), code, peak)
	if waitErr != nil && code == -1 {
		return exitError, waitErr
	}
	return code, nil
}

// watcher samples one process's RSS, exports it, and runs the analyzer.
type watcher struct {
	proc     *process.Process
	interval time.Duration
	analyzer *leakdetect.Analyzer
	tel      *telemetry
	tracer   trace.Tracer
	name     string
	stdout   io.Writer
	stderr   io.Writer
	// lastRSS is the newest sample, -1 before the first: written by the
	// sampling loop, read by the metric reader's goroutine.
	lastRSS atomic.Int64
}

func newWatcher(ctx context.Context, proc *process.Process, interval time.Duration, scale float64, stdout, stderr io.Writer) (*watcher, error) {
	a, err := leakdetect.NewAnalyzer(leakdetect.WithTimeScale(scale))
	if err != nil {
		return nil, fmt.Errorf("--time-scale: %w", err)
	}
	name, _ := proc.NameWithContext(ctx)
	exe, _ := proc.ExeWithContext(ctx)
	tel, err := setupTelemetry(ctx, int(proc.Pid), name, stdout)
	if err != nil {
		return nil, err
	}
	w := &watcher{proc: proc, interval: interval, analyzer: a, tel: tel, name: name, stdout: stdout, stderr: stderr,
		tracer: tel.tp.Tracer("github.com/memwatch/memwatch/cmd/memwatch")}
	w.lastRSS.Store(-1)
	if _, err := buildinfo.ReadFile(exe); err == nil {
		fmt.Fprintf(stderr, "memwatch: watching %s (pid %d), a Go program: its RSS is analyzed from outside; instrument it with leakdetect for its live heap and goroutines\n", name, proc.Pid)
	} else {
		fmt.Fprintf(stderr, "memwatch: watching %s (pid %d), not a Go program: only its rss signal is analyzed\n", name, proc.Pid)
	}
	_, err = tel.meter.Int64ObservableUpDownCounter("process.memory.usage",
		metric.WithUnit("By"), metric.WithDescription("The amount of physical memory in use (the watched process's RSS)."),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			if rss := w.lastRSS.Load(); rss >= 0 {
				o.Observe(rss)
			}
			return nil
		}))
	if err != nil {
		tel.shutdown()
		return nil, err
	}
	return w, nil
}

// loop samples until ctx ends or the process is gone, and returns how
// many findings there were.
func (w *watcher) loop(ctx context.Context) int {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	findings := 0
	for {
		mi, err := w.proc.MemoryInfoWithContext(ctx)
		if err != nil {
			return findings // the process is gone
		}
		w.lastRSS.Store(int64(mi.RSS))
		for _, f := range w.analyzer.Observe(leakdetect.Sample{Time: time.Now(), RSS: mi.RSS}) {
			findings++
			w.report(ctx, f)
		}
		select {
		case <-ctx.Done():
			return findings
		case <-t.C:
		}
	}
}

// report prints a finding and emits it as the library does: a
// memwatch.leak span with a memwatch.leak.suspected event.
func (w *watcher) report(ctx context.Context, f leakdetect.Finding) {
	_ = printRows(w.stdout, []row{newRow(w.name, strconv.Itoa(int(w.proc.Pid)), f)}, false)
	_, span := w.tracer.Start(ctx, "memwatch.leak", trace.WithNewRoot(),
		trace.WithAttributes(attribute.String("memwatch.leak.signal", f.Signal), attribute.String("memwatch.leak.reason", f.Reason)))
	attrs := []attribute.KeyValue{
		attribute.String("memwatch.leak.signal", f.Signal),
		attribute.String("memwatch.leak.reason", f.Reason),
		attribute.Int64("memwatch.leak.growth", f.Growth),
		attribute.Int64("memwatch.leak.rate_per_hour", f.Rate),
		attribute.Int64("memwatch.leak.baseline", f.Baseline),
		attribute.Int64("memwatch.leak.current", f.Current),
		attribute.Int64("memwatch.leak.window_seconds", int64(f.Window.Seconds())),
		attribute.Float64("memwatch.leak.significance", f.Significance),
	}
	span.AddEvent("memwatch.leak.suspected", trace.WithAttributes(attrs...))
	span.SetStatus(codes.Error, fmt.Sprintf("%s leak suspected (%s)", f.Signal, f.Reason))
	span.End()
}

func (w *watcher) close() { w.tel.shutdown() }
