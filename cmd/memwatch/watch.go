package main

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shirou/gopsutil/v3/process"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/childmem"
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
	if fs.NArg() > 0 {
		return exitError, fmt.Errorf("unexpected argument %s: watch takes its process from --pid", shortQuoted(fs.Arg(0)))
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
	w, err := newWatcher(ctx, proc, "pid "+strconv.Itoa(*pid), *interval, *scale, stdout, stderr)
	if err != nil {
		return exitError, err
	}
	defer w.close()
	findings, exitedAt := w.loop(ctx)
	if !exitedAt.IsZero() {
		fmt.Fprintf(stderr, "memwatch watch: %s (pid %d) exited at %s, %s\n", shown(w.name), *pid,
			exitedAt.Format(time.RFC3339), plural(findings, "finding"))
	}
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
	cmd.SysProcAttr = childAttrs()
	runtime.LockOSThread() // see childAttrs
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return exitError, fmt.Errorf("start %s: %w", shown(fs.Arg(0)), err)
	}
	// Signals meant for the child reach it once; memwatch stays until it
	// exits.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if !reachesChildAnyway(s) {
				_ = cmd.Process.Signal(s)
			}
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
	name := filepath.Base(fs.Arg(0))
	// The process is made by hand: NewProcess fails for a child that has
	// already exited, and that child still gets its exit line.
	w, err := newWatcher(ctx, &process.Process{Pid: int32(cmd.Process.Pid)}, name, *interval, *scale, stdout, stderr)
	if err == nil {
		w.readHighWater = true
		w.loop(ctx)
		defer w.close()
	} else {
		fmt.Fprintf(stderr, "memwatch run: not watching: %v\n", err)
	}
	<-exited
	state := cmd.ProcessState
	code := state.ExitCode()
	how := fmt.Sprintf("exited with status %d", code)
	if sig, ok := childmem.Signal(state); ok {
		code = 128 + int(sig)
		how = fmt.Sprintf("was killed by %s (status %d)", signalName(sig), code)
	}
	var highWater, sampledMax uint64
	if w != nil {
		highWater, sampledMax = w.highWater, w.maxRSS
	}
	fmt.Fprintf(stderr, "memwatch run: %s %s, %s\n", shown(name), how, peakLine(state, highWater, sampledMax))
	if waitErr != nil && code == -1 {
		return exitError, waitErr
	}
	return code, nil
}

// peakLine says the child's own peak RSS and where it came from, beside
// the largest RSS sampled; "unknown" when neither source can tell (the
// child exited before the first reading, or outside Linux its rusage did
// not exceed memwatch's own peak).
func peakLine(state *os.ProcessState, highWater, sampledMax uint64) string {
	peak := "peak RSS unknown"
	if p, source, ok := childmem.Peak(state, highWater); ok {
		from := "the kernel's rusage"
		if source == childmem.FromHighWater {
			from = "its high-water mark, last read while it ran"
		}
		peak = fmt.Sprintf("peak RSS %s (%s)", mib(p), from)
	}
	if sampledMax > 0 {
		peak += fmt.Sprintf(", largest sample %s", mib(sampledMax))
	}
	return peak
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
	// For run's exit line, kept by the sampling loop and read after it
	// returned: the largest sample, and (with readHighWater) the process's
	// high-water mark (Linux VmHWM) as last read.
	maxRSS        uint64
	readHighWater bool
	highWater     uint64
}

// newWatcher watches proc; fallback names it when /proc no longer does
// (a child that exited at once).
func newWatcher(ctx context.Context, proc *process.Process, fallback string, interval time.Duration, scale float64, stdout, stderr io.Writer) (*watcher, error) {
	a, err := leakdetect.NewAnalyzer(leakdetect.WithTimeScale(scale))
	if err != nil {
		return nil, fmt.Errorf("--time-scale: %w", err)
	}
	name, _ := proc.NameWithContext(ctx)
	if name == "" {
		name = fallback
	}
	exe, _ := proc.ExeWithContext(ctx)
	tel, err := setupTelemetry(ctx, int(proc.Pid), name, stdout)
	if err != nil {
		return nil, err
	}
	w := &watcher{proc: proc, interval: interval, analyzer: a, tel: tel, name: name, stdout: stdout, stderr: stderr,
		tracer: tel.tp.Tracer("github.com/memwatch/memwatch/cmd/memwatch")}
	w.lastRSS.Store(-1)
	if _, err := buildinfo.ReadFile(exe); err == nil {
		fmt.Fprintf(stderr, "memwatch: watching %s (pid %d), a Go program: its RSS is analyzed from outside; instrument it with leakdetect for its live heap and goroutines\n", shown(name), proc.Pid)
	} else {
		fmt.Fprintf(stderr, "memwatch: watching %s (pid %d), not a Go program: only its rss signal is analyzed\n", shown(name), proc.Pid)
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
// many findings there were and, when the process went, when that was
// seen. A zombie has exited: its memory is gone, only its parent has not
// reaped it.
func (w *watcher) loop(ctx context.Context) (findings int, exitedAt time.Time) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		mi, err := w.proc.MemoryInfoWithContext(ctx)
		if err != nil || isZombie(ctx, w.proc) {
			if ctx.Err() != nil {
				return findings, time.Time{}
			}
			return findings, time.Now()
		}
		if w.readHighWater {
			if hw, err := childmem.HighWater(int(w.proc.Pid)); err == nil {
				w.highWater = hw
			}
		}
		w.lastRSS.Store(int64(min(mi.RSS, math.MaxInt64)))
		w.maxRSS = max(w.maxRSS, mi.RSS)
		for _, f := range w.analyzer.Observe(leakdetect.Sample{Time: time.Now(), RSS: mi.RSS}) {
			findings++
			w.report(ctx, f)
		}
		select {
		case <-ctx.Done():
			return findings, time.Time{}
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

// isZombie reports whether p has exited and waits for its parent.
func isZombie(ctx context.Context, p *process.Process) bool {
	st, err := p.StatusWithContext(ctx)
	return err == nil && slices.Contains(st, process.Zombie)
}
