package spans

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/shirou/gopsutil/v3/process"
	"go.opentelemetry.io/contrib/propagators/envcar"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/childmem"
	"github.com/memwatch/memwatch/internal/cgroup"
	"github.com/memwatch/memwatch/internal/clock"
)

// maxSampleEvents bounds the RSS sample events on one worker span; a long
// job keeps its sampled maximum but stops adding events.
const maxSampleEvents = 100

// TrackCmd runs cmd (not yet started) as a tracked worker job: a span that
// records the child's PID, its RSS sampled while it runs (every
// WithSampleInterval, as span events), its own peak RSS, the exit code and
// the duration. The peak (memwatch.worker.rss_peak, with
// memwatch.worker.rss_peak_source saying where it came from) is the
// kernel's rusage at exit when that is above this process's own peak, else
// the child's high-water mark (Linux VmHWM) last read while it ran: the
// rusage of a child also counts the memory it shared with its parent
// before exec, so a small worker of a large service would otherwise report
// the service's memory. A child that exits before the first reading and
// stays below our peak has no rss_peak.
//
// When ctx ends before the child does, the child is stopped: by the
// command's own Cancel when it was made with exec.CommandContext, else
// killed, so a cancelled caller never waits for a child it gave up on.
//
// The child receives the
// trace context in its environment (TRACEPARENT, TRACESTATE, BAGGAGE), so a
// Go child continues the trace with ContextFromEnv.
//
// A worker that cannot start, exits non-zero or is killed by a signal gives
// a span with an error status naming the cause (a SIGKILL while the
// cgroup's oom_kill count rose is marked memwatch.worker.oom_killed), and TrackCmd returns the
// error from exec (start failure or *exec.ExitError). Invalid options or a
// nil or already started cmd return an error without running anything.
func TrackCmd(ctx context.Context, cmd *exec.Cmd, opts ...CmdOption) error {
	if cmd == nil {
		return errors.New("spans: TrackCmd: cmd is nil")
	}
	if cmd.Process != nil {
		return fmt.Errorf("spans: TrackCmd(%s): cmd was already started", cmd.Path)
	}
	cfg, err := newConfig(opts, CmdOption.applyCmd)
	if err != nil {
		return fmt.Errorf("spans: TrackCmd(%s): %w", cmd.Path, err)
	}
	exe := filepath.Base(cmd.Path)
	name := cfg.spanName
	if name == "" {
		name = "worker " + exe
	}
	attrs := append([]attribute.KeyValue{semconv.ProcessExecutableName(exe)}, cfg.attrs...)
	ctx, span := cfg.tracerFor(ctx).Start(ctx, name, trace.WithAttributes(attrs...))
	defer span.End()

	injectEnv(ctx, cmd, cfg.textMapPropagator())
	var oom oomCount // read only for a span that records
	if span.IsRecording() {
		oom = countOOMKills(cfg.fsRoot)
	}
	if err := cmd.Start(); err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "worker did not start: "+err.Error())
		return err
	}
	span.SetAttributes(semconv.ProcessPID(cmd.Process.Pid))

	var w *rssWatcher
	if span.IsRecording() {
		w = watchRSS(span, cmd.Process.Pid, &cfg)
	}
	exited := make(chan struct{})
	if cmd.Cancel == nil { // exec.CommandContext's command stops itself
		go func() {
			select {
			case <-ctx.Done():
				_ = cmd.Process.Kill()
			case <-exited:
			}
		}()
	}
	err = cmd.Wait()
	close(exited)
	var highWater uint64
	if w != nil {
		highWater = w.stop()
	}
	recordExit(span, cmd.ProcessState, highWater, err)
	if sigkilled(cmd.ProcessState) && oom.rose(cfg.fsRoot) {
		span.SetAttributes(attrWorkerOOMKilled.Bool(true))
		span.SetStatus(codes.Error, "worker killed by the OOM killer (SIGKILL while the cgroup's oom_kill count rose)")
	}
	return err
}

// oomCount is the cgroup's oom_kill count when a worker started. A worker
// starts in its parent's cgroup, so a SIGKILL while that count rose was
// the OOM killer's.
type oomCount struct {
	n  uint64
	ok bool
}

func countOOMKills(root string) oomCount {
	g, err := cgroup.Find(root)
	if err != nil {
		return oomCount{}
	}
	n, ok := g.OOMKills()
	return oomCount{n, ok}
}

// rose reports whether the count is known and has risen since.
func (c oomCount) rose(root string) bool {
	now := countOOMKills(root)
	return c.ok && now.ok && now.n > c.n
}

// injectEnv adds the trace context to the child's environment. A nil Env
// means "inherit ours", so that is where the additions start from; exec
// keeps the last value of a duplicated name, so ours win.
func injectEnv(ctx context.Context, cmd *exec.Cmd, p propagation.TextMapPropagator) {
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	p.Inject(ctx, &envcar.Carrier{SetEnvFunc: func(k, v string) { env = append(env, k+"="+v) }})
	cmd.Env = env
}

// sigkilled reports whether the process was killed by SIGKILL, the OOM
// killer's signal.
func sigkilled(state *os.ProcessState) bool {
	sig, ok := childmem.Signal(state)
	return ok && sig == syscall.SIGKILL
}

// recordExit puts the exit code, the peak RSS and any failure on the span.
func recordExit(span trace.Span, state *os.ProcessState, highWater uint64, err error) {
	if state != nil {
		span.SetAttributes(semconv.ProcessExitCode(state.ExitCode()))
		if peak, source, ok := childmem.Peak(state, highWater); ok {
			span.SetAttributes(attrWorkerRSSPeak.Int64(int64(min(peak, math.MaxInt64))), attrWorkerRSSPeakSource.String(source))
		}
		if sig, ok := childmem.Signal(state); ok {
			span.SetAttributes(attrWorkerSignal.String(sig.String()))
			span.RecordError(err)
			span.SetStatus(codes.Error, "worker killed by signal "+sig.String())
			return
		}
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "worker failed: "+err.Error())
	}
}

// ContextFromEnv returns ctx carrying the trace context a parent passed
// through TrackCmd in this process's environment: a worker's one call to
// continue its parent's trace. Without such variables ctx is returned as
// it is.
func ContextFromEnv(ctx context.Context, opts ...EnvOption) context.Context {
	cfg, _ := newConfig(opts, EnvOption.applyEnv)
	return cfg.textMapPropagator().Extract(ctx, &envcar.Carrier{})
}

// rssWatcher samples a child's RSS with gopsutil, and its high-water
// mark, until stopped.
type rssWatcher struct {
	done, quit chan struct{}
	highWater  uint64 // the last read; written by the sampler, read after done
}

func watchRSS(span trace.Span, pid int, cfg *config) *rssWatcher {
	w := &rssWatcher{done: make(chan struct{}), quit: make(chan struct{})}
	clk := cfg.clock
	if clk == nil {
		clk = clock.Real{}
	}
	t := clk.NewTicker(cfg.sampleInterval)
	go func() {
		defer close(w.done)
		defer t.Stop()
		p, err := process.NewProcess(int32(pid))
		if err != nil {
			return // exited already; the rusage peak may still tell
		}
		readHighWater := func() {
			if hw, err := childmem.HighWater(pid); err == nil {
				w.highWater = hw
			}
		}
		readHighWater()
		var max, n int64
		defer func() {
			if n > 0 {
				span.SetAttributes(attrWorkerRSSSampleMax.Int64(max), attrWorkerRSSSamples.Int64(n))
			}
		}()
		for {
			select {
			case <-w.quit:
				return
			case <-t.C():
				mi, err := p.MemoryInfo()
				if err != nil {
					continue // between exit and reaping; Wait will end us
				}
				readHighWater()
				rss := int64(mi.RSS)
				n++
				if rss > max {
					max = rss
				}
				if n <= maxSampleEvents {
					span.AddEvent(eventWorkerRSS, trace.WithAttributes(attrWorkerRSS.Int64(rss)))
				}
			}
		}
	}()
	return w
}

// stop ends the sampling and returns the last high-water mark read, 0
// when none was.
func (w *rssWatcher) stop() uint64 {
	close(w.quit)
	<-w.done
	return w.highWater
}
