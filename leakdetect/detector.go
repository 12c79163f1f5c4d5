package leakdetect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/log/global"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/memwatch/memwatch/internal/bytefmt"
	"github.com/memwatch/memwatch/internal/errdedup"
	"github.com/memwatch/memwatch/internal/memread"
	"github.com/memwatch/memwatch/otelmem"
)

// ErrShutdown is returned by Shutdown after the first call.
var ErrShutdown = errors.New("leakdetect: detector is shut down")

// Span, event and attribute names of a finding.
const (
	spanName         = "memwatch.leak"
	eventLeak        = EventLeakSuspected
	eventGC          = "memwatch.leak.gc"
	attrSignal       = attribute.Key("memwatch.leak.signal")
	attrReason       = attribute.Key("memwatch.leak.reason")
	attrGrowth       = attribute.Key("memwatch.leak.growth")
	attrRate         = attribute.Key("memwatch.leak.rate_per_hour")
	attrBaseline     = attribute.Key("memwatch.leak.baseline")
	attrCurrent      = attribute.Key("memwatch.leak.current")
	attrWindow       = attribute.Key("memwatch.leak.window_seconds")
	attrSignificance = attribute.Key("memwatch.leak.significance")
	attrTimeToLimit  = attribute.Key("memwatch.leak.time_to_limit_seconds")
	attrTopSites     = attribute.Key("memwatch.leak.top_sites")
	attrGrownSites   = attribute.Key("memwatch.leak.grown_sites")
	attrGoroutines   = attribute.Key("memwatch.leak.goroutine_stacks")
	// attrLeakedGoroutines: Go 1.27's goroutineleak profile, goroutines
	// blocked where no running goroutine can ever wake them.
	attrLeakedGoroutines = attribute.Key("memwatch.leak.leaked_goroutine_stacks")
	attrProfileBase      = attribute.Key("memwatch.leak.profile.baseline")
	attrProfileNow       = attribute.Key("memwatch.leak.profile.current")
	attrProfileError     = attribute.Key("memwatch.leak.profile.error")
	attrHeapFreed        = attribute.Key("memwatch.forced_gc.heap_freed")
	attrObjectsFreed     = attribute.Key("memwatch.forced_gc.objects_freed")
	attrRSSReleased      = attribute.Key("memwatch.forced_gc.rss_released")
	attrGCDurationSec    = attribute.Key("memwatch.forced_gc.duration_seconds")
)

// The alerting metrics' names, for the Detector and for components that
// report other processes' leaks the same way. A Prometheus rule reads them
// after OTLP translation as memwatch_leak_suspected,
// memwatch_leak_growth_rate_bytes_per_hour,
// memwatch_leak_goroutine_growth_rate_per_hour, memwatch_leak_findings_total
// and memwatch_leak_time_to_limit_seconds.
const (
	MetricSuspected           = "memwatch.leak.suspected"
	MetricGrowthRate          = "memwatch.leak.growth_rate"
	MetricGoroutineGrowthRate = "memwatch.leak.goroutine_growth_rate"
	MetricFindings            = "memwatch.leak.findings"
	MetricTimeToLimit         = "memwatch.leak.time_to_limit"
)

// Detector samples memory in the background, feeds an Analyzer, and turns
// its findings into span events, logs and metrics. Create it with Start.
type Detector struct {
	cfg    config
	mon    *otelmem.Monitor
	ownMon bool
	tracer trace.Tracer
	// eventLogger emits the finding events as log records
	// (WithEventsAsLogs); nil means span events.
	eventLogger log.Logger
	started     time.Time // the first sample's time, guarded by mu

	sampleErrs errdedup.Reporter // failed samples
	panics     errdedup.Reporter // panics recovered in the loop

	mu        sync.Mutex // guards analyzer and baseline
	analyzer  *Analyzer
	baseSites map[string]int64 // in-use heap bytes by site when warm-up ended
	basePath  string           // the baseline profile's file (WithProfileDir)

	findings     metric.Int64Counter
	registration metric.Registration
	profiles     profileStore
	lastProfile  time.Time

	cancel       context.CancelFunc
	done         chan struct{}
	workers      sync.WaitGroup // profile work that outlived its timeout
	shutdownOnce sync.Once
}

// Start begins sampling memory every WithInterval (default 10 s) through
// runtime/metrics and /proc (never runtime.ReadMemStats), logs a
// periodic line every WithReportInterval, and on each finding emits a span
// with a memwatch.leak.suspected event (growth, rate, baseline, window,
// reason, top and grown allocation sites or goroutine pile-ups), forces a
// GC and records what it freed as a memwatch.leak.gc event, logs the text
// report, and counts the finding. Analyzer options tune the decision.
func Start(opts ...Option) (*Detector, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	d := &Detector{
		cfg:      cfg,
		mon:      cfg.monitor,
		tracer:   cfg.tracerProvider.Tracer(ScopeName, trace.WithInstrumentationVersion(Version)),
		analyzer: newAnalyzer(cfg.analyzer),
		profiles: profileStore{dir: cfg.profileDir, max: cfg.maxProfiles, maxBytes: maxProfileDirBytes},
		done:     make(chan struct{}),
	}
	d.sampleErrs.Now, d.panics.Now = cfg.clock.Now, cfg.clock.Now
	if cfg.eventsAsLogs {
		lp := cfg.loggerProvider
		if lp == nil {
			lp = global.GetLoggerProvider()
		}
		d.eventLogger = lp.Logger(ScopeName, log.WithInstrumentationVersion(Version))
	}
	if cfg.profileDir != "" {
		if err := checkProfileDir(cfg.profileDir); err != nil {
			return nil, fmt.Errorf("leakdetect: %w", err)
		}
	}
	if d.mon != nil {
		if _, err := d.mon.Snapshot(); errors.Is(err, otelmem.ErrShutdown) {
			return nil, errors.New("leakdetect: WithMonitor: the monitor is shut down")
		}
	}
	if d.mon == nil {
		// A monitor for reading only: its instruments go nowhere, so a
		// service that also runs otelmem does not report memory twice.
		d.mon, err = otelmem.Start(otelmem.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelmem.WithoutRuntimeInstrumentation(), otelmem.WithLogger(cfg.logger))
		if err != nil {
			return nil, fmt.Errorf("leakdetect: %w", err)
		}
		d.ownMon = true
	}
	if err := d.registerMetrics(); err != nil {
		d.closeMonitor()
		return nil, fmt.Errorf("leakdetect: metrics: %w", err)
	}
	if cfg.profileDir != "" {
		if err := d.profiles.open(); err != nil {
			d.closeMonitor()
			if d.registration != nil {
				_ = d.registration.Unregister()
			}
			return nil, fmt.Errorf("leakdetect: %w", err)
		}
		if err := d.profiles.prune(); err != nil {
			otel.Handle(fmt.Errorf("leakdetect: %w", err))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go d.run(ctx)
	return d, nil
}

// Shutdown stops sampling, waits for work in progress (or ctx), and
// unregisters the metrics. It runs once; later calls return ErrShutdown.
func (d *Detector) Shutdown(ctx context.Context) error {
	err := ErrShutdown
	d.shutdownOnce.Do(func() {
		d.cancel()
		var errs []error
		finished := make(chan struct{})
		go func() {
			<-d.done
			d.workers.Wait()
			close(finished)
		}()
		select {
		case <-finished:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("leakdetect: shutdown: %w", ctx.Err()))
		}
		if d.registration != nil {
			errs = append(errs, d.registration.Unregister())
		}
		errs = append(errs, d.closeMonitor(), d.profiles.close())
		err = errors.Join(errs...)
	})
	return err
}

func (d *Detector) closeMonitor() error {
	if !d.ownMon {
		return nil
	}
	return d.mon.Shutdown(context.Background())
}

// run is the detector's goroutine.
func (d *Detector) run(ctx context.Context) {
	defer close(d.done)
	sample := d.cfg.clock.NewTicker(d.cfg.interval)
	defer sample.Stop()
	report := d.cfg.clock.NewTicker(d.cfg.reportInterval)
	defer report.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sample.C():
			d.guard(func() { d.sample(ctx) })
		case <-report.C():
			d.guard(func() { d.periodic(ctx) })
		}
	}
}

// guard keeps a panic in the detector's own work from taking down its host.
func (d *Detector) guard(f func()) {
	defer func() {
		if r := recover(); r != nil {
			d.panics.Report(fmt.Errorf("leakdetect: recovered from panic: %v", r))
		}
	}()
	f()
}

func (d *Detector) read() (Sample, error) {
	if d.cfg.sampler != nil {
		return d.cfg.sampler()
	}
	s, err := d.mon.Snapshot()
	return Sample{Time: s.Time, HeapLive: s.HeapLive, RSS: s.RSS, Goroutines: int64(s.Goroutines), Limit: s.Limit}, err
}

func (d *Detector) sample(ctx context.Context) {
	s, err := d.read()
	if err != nil {
		d.sampleErrs.Report(fmt.Errorf("leakdetect: sample: %w", err))
		if s.RSS == 0 && s.HeapLive == 0 {
			return
		}
	} else {
		d.sampleErrs.Report(nil)
	}
	if s.Time.IsZero() {
		s.Time = d.cfg.clock.Now()
	}
	d.mu.Lock()
	found := d.analyzer.Observe(s)
	// Warm-up is measured on the samples' own clock, so a replay of old
	// samples (WithSampler) gets its baseline profile too.
	if d.started.IsZero() || s.Time.Before(d.started) {
		d.started = s.Time
	}
	needBaseline := d.baseSites == nil && s.Time.Sub(d.started) >= d.cfg.analyzer.warmup
	d.mu.Unlock()
	if needBaseline {
		d.takeBaseline(s.Time)
	}
	for _, f := range found {
		d.report(ctx, f)
		if d.cfg.onFinding != nil {
			d.guard(func() { d.cfg.onFinding(f) })
		}
	}
}

// takeBaseline keeps the heap's allocation sites at the end of warm-up,
// for the grown-sites comparison, and writes the heap profile to
// WithProfileDir's directory.
func (d *Detector) takeBaseline(at time.Time) {
	sites := siteBytes(memread.HeapSites())
	var path string
	var err error
	if d.profiles.dir != "" {
		var data []byte
		if data, err = capture("heap"); err == nil {
			path, err = d.profiles.write("baseline", at, data)
		}
	}
	d.mu.Lock()
	d.baseSites, d.basePath = sites, path
	d.mu.Unlock()
	if err != nil {
		otel.Handle(fmt.Errorf("leakdetect: baseline heap profile: %w", err))
	}
}

// event emits one of a finding's events: a span event on span, or with
// WithEventsAsLogs a log record named name through the Logs API, in ctx
// (which carries span, so the record is correlated with it).
func (d *Detector) event(ctx context.Context, span trace.Span, name string, sev log.Severity, body string, attrs []attribute.KeyValue) {
	if d.eventLogger == nil {
		span.AddEvent(name, trace.WithAttributes(attrs...))
		return
	}
	var r log.Record
	r.SetEventName(name)
	r.SetTimestamp(d.cfg.clock.Now())
	r.SetSeverity(sev)
	r.SetSeverityText(sev.String())
	r.SetBody(attribute.StringValue(body))
	r.AddAttributes(attrs...)
	d.eventLogger.Emit(ctx, r)
}

// periodic logs the "<rss> (Delta ...) - Periodic check" line.
func (d *Detector) periodic(ctx context.Context) {
	var suspected []string
	d.mu.Lock()
	for _, sig := range signalNames {
		if d.analyzer.Suspected(sig) {
			suspected = append(suspected, sig)
		}
	}
	d.mu.Unlock()
	if _, err := d.mon.LogCheckpoint(ctx, "Periodic check", slog.Any("leak_suspected", suspected)); err != nil {
		otel.Handle(fmt.Errorf("leakdetect: periodic line: %w", err))
	}
}

// report turns a finding into a span with two events, a log and a count.
//
// The GC runs first although its event comes second: a heap profile is as
// of the last completed GC cycles, which in a quiet service can be minutes
// old, and a forced GC makes the allocation sites current. What the GC
// freed is measured all the same.
func (d *Detector) report(ctx context.Context, f Finding) {
	ctx, span := d.tracer.Start(ctx, spanName, trace.WithNewRoot(),
		trace.WithAttributes(attrSignal.String(f.Signal), attrReason.String(f.Reason)))
	defer span.End()

	gc, gcErr := d.mon.ForceGC()
	if gcErr != nil {
		otel.Handle(fmt.Errorf("leakdetect: forced GC: %w", gcErr))
	}
	attrs := append(f.Attributes(), d.explain(f)...)
	summary := fmt.Sprintf("%s leak suspected (%s)", f.Signal, f.Reason)
	d.event(ctx, span, eventLeak, log.SeverityWarn, summary, attrs)
	span.SetStatus(codes.Error, summary)
	d.event(ctx, span, eventGC, log.SeverityInfo, "forced GC freed "+bytefmt.Bytes(gc.HeapFreed), []attribute.KeyValue{
		attrHeapFreed.Int64(gc.HeapFreed),
		attrObjectsFreed.Int64(gc.ObjectsFreed),
		attrRSSReleased.Int64(gc.RSSReleased),
		attrGCDurationSec.Float64(gc.Duration.Seconds()),
	})

	report, repErr := d.mon.Report(d.cfg.topN)
	if repErr != nil {
		otel.Handle(fmt.Errorf("leakdetect: report: %w", repErr))
	}
	d.cfg.logger.WarnContext(ctx, fmt.Sprintf("Potential memory leak detected! %s grew %s over %v (%s)", f.Signal, bytefmt.Amount(f.Signal, f.Growth), roundWindow(f.Window), f.Reason),
		slog.String("signal", f.Signal), slog.String("reason", f.Reason), slog.Int64("growth", f.Growth),
		slog.Int64("rate_per_hour", f.Rate), slog.String("report", report))
	d.cfg.logger.InfoContext(ctx, "Forced GC after leak finding: freed "+bytefmt.Bytes(gc.HeapFreed),
		slog.Int64("heap_freed_bytes", gc.HeapFreed), slog.Int64("objects_freed", gc.ObjectsFreed),
		slog.Int64("rss_released_bytes", gc.RSSReleased), slog.Duration("duration", gc.Duration))
	d.findings.Add(ctx, 1, metric.WithAttributes(attrSignal.String(f.Signal), attrReason.String(f.Reason)))
}

// roundWindow renders a window for a person: to the minute, or to the
// second for the short windows of a time-scaled demo.
func roundWindow(w time.Duration) time.Duration {
	if w < time.Hour {
		return w.Round(time.Second)
	}
	return w.Round(time.Minute)
}

// explain gathers what tells where the leak is: allocation sites now and
// those grown since the baseline, or where goroutines pile up. Profile work
// runs at most once per finding, no more than once a minute, and within
// the profile timeout; past it the event goes out without it.
func (d *Detector) explain(f Finding) []attribute.KeyValue {
	now := d.cfg.clock.Now()
	if !d.lastProfile.IsZero() && now.Sub(d.lastProfile) < time.Minute {
		return []attribute.KeyValue{attrProfileError.String("skipped: profiled less than a minute ago")}
	}
	d.lastProfile = now
	result := make(chan []attribute.KeyValue, 1)
	d.workers.Add(1)
	go func() {
		defer d.workers.Done()
		var out []attribute.KeyValue
		defer func() {
			if r := recover(); r != nil {
				out = append(out, attrProfileError.String(fmt.Sprint("panic: ", r)))
			}
			result <- out
		}()
		out = d.profileAttrs(f, now)
	}()
	timer := time.NewTimer(d.cfg.profileTimeout)
	defer timer.Stop()
	select {
	case attrs := <-result:
		return attrs
	case <-timer.C:
		return []attribute.KeyValue{attrProfileError.String("profile work timed out after " + d.cfg.profileTimeout.String())}
	}
}

func (d *Detector) profileAttrs(f Finding, now time.Time) []attribute.KeyValue {
	var attrs []attribute.KeyValue
	var errs []error
	if f.Signal == SignalGoroutines {
		stacks, err := goroutinePileups(d.cfg.topN)
		errs = append(errs, err)
		attrs = append(attrs, attrGoroutines.StringSlice(stacks))
		leaked, ok, err := leakedGoroutines(d.cfg.topN)
		errs = append(errs, err)
		if ok && err == nil {
			attrs = append(attrs, attrLeakedGoroutines.StringSlice(leaked))
		}
	}
	cur := siteBytes(memread.HeapSites())
	attrs = append(attrs, attrTopSites.StringSlice(largest(cur, d.cfg.topN, func(site string, n int64) string {
		return bytefmt.Bytes(n) + " " + site
	})))
	d.mu.Lock()
	base, basePath := d.baseSites, d.basePath
	d.mu.Unlock()
	if base == nil {
		errs = append(errs, errors.New("no baseline heap profile yet: warm-up has not ended"))
	} else {
		attrs = append(attrs, attrGrownSites.StringSlice(grownSites(base, cur, d.cfg.topN)))
	}
	if d.profiles.dir != "" {
		data, err := capture("heap")
		if err == nil {
			var path string
			if path, err = d.profiles.write("finding", now, data); path != "" {
				attrs = append(attrs, attrProfileNow.String(path))
			}
		}
		errs = append(errs, err)
		if basePath != "" {
			attrs = append(attrs, attrProfileBase.String(basePath))
		}
	}
	if err := errors.Join(errs...); err != nil {
		attrs = append(attrs, attrProfileError.String(err.Error()))
	}
	return attrs
}

// registerMetrics creates the alerting instruments.
func (d *Detector) registerMetrics() error {
	meter := d.cfg.meterProvider.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
	// "{leak}", not "1": Prometheus would add _ratio to a unit-1 gauge.
	suspected, err1 := meter.Int64ObservableGauge(MetricSuspected,
		metric.WithUnit("{leak}"),
		metric.WithDescription("1 while a leak of memwatch.leak.signal is suspected, else 0."))
	rate, err2 := meter.Float64ObservableGauge(MetricGrowthRate,
		metric.WithUnit("By/h"),
		metric.WithDescription("Fitted growth rate of heap_live or rss (memwatch.leak.signal)."))
	grate, err3 := meter.Float64ObservableGauge(MetricGoroutineGrowthRate,
		metric.WithUnit("{goroutine}/h"),
		metric.WithDescription("Fitted growth rate of the goroutine count."))
	ttl, err4 := meter.Float64ObservableGauge(MetricTimeToLimit,
		metric.WithUnit("s"),
		metric.WithDescription("When a suspected heap_live or rss leak reaches the memory limit at its fitted rate; no point when none is suspected or the limit is unknown."))
	var err5 error
	d.findings, err5 = meter.Int64Counter(MetricFindings,
		metric.WithUnit("{finding}"),
		metric.WithDescription("Leak findings, by memwatch.leak.signal and memwatch.leak.reason."))
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return err
	}
	var bySignal [signalCount]metric.MeasurementOption
	for i, n := range signalNames {
		bySignal[i] = metric.WithAttributeSet(attribute.NewSet(attrSignal.String(n)))
	}
	var err error
	d.registration, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		d.mu.Lock()
		defer d.mu.Unlock()
		for i, n := range signalNames {
			v := int64(0)
			if d.analyzer.Suspected(n) {
				v = 1
			}
			o.ObserveInt64(suspected, v, bySignal[i])
			if i == idxGoroutines {
				o.ObserveFloat64(grate, d.analyzer.Rate(n))
				continue
			}
			o.ObserveFloat64(rate, d.analyzer.Rate(n), bySignal[i])
			if left := d.analyzer.TimeToLimit(n); left > 0 {
				o.ObserveFloat64(ttl, left.Seconds(), bySignal[i])
			}
		}
		return nil
	}, suspected, rate, grate, ttl)
	return err
}
