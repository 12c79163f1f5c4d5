package otelmem

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.43.0/processconv"

	"github.com/memwatch/memwatch/internal/cgroup"
)

// Attribute keys memwatch adds to its metrics.
const (
	// attrLimitSource says where memwatch.memory.limit came from: one of the
	// LimitSource values.
	attrLimitSource = attribute.Key("memwatch.memory.limit_source")
	// attrMemoryType says which measure a baseline or growth is of: "rss"
	// or "heap_live".
	attrMemoryType = attribute.Key("memwatch.memory.type")
)

// Metric names otelmem registers beside the semantic-convention
// process.memory.usage and process.memory.virtual.
const (
	metricUtilization = "memwatch.memory.utilization"
	metricLimit       = "memwatch.memory.limit"
	metricHeapLive    = "memwatch.heap.live"
	metricHeapObjects = "memwatch.heap.objects"
	metricGCCycles    = "memwatch.gc.cycles"
	metricBaseline    = "memwatch.memory.baseline"
	metricGrowth      = "memwatch.memory.growth"

	metricCgroupUsage       = "memwatch.cgroup.memory.usage"
	metricCgroupWorkingSet  = "memwatch.cgroup.memory.working_set"
	metricCgroupUtilization = "memwatch.cgroup.memory.utilization"
	metricCgroupEvents      = "memwatch.cgroup.memory.events"
	metricPressureStall     = "memwatch.memory.pressure.stall_time"
	metricPressureAvg10     = "memwatch.memory.pressure.avg10"
	metricGCCPU             = "memwatch.gc.cpu.utilization"
)

// Attribute keys of the container and runtime metrics.
const (
	// attrCgroupEvent names a memory.events counter: low, high, max, oom,
	// oom_kill.
	attrCgroupEvent = attribute.Key("memwatch.cgroup.memory.event")
	// attrPressureTasks says which PSI line: "some" (some tasks stalled on
	// memory) or "full" (all non-idle tasks stalled at once).
	attrPressureTasks = attribute.Key("memwatch.memory.pressure.tasks")
)

type instruments struct {
	usage       processconv.MemoryUsageObservable
	virtual     processconv.MemoryVirtualObservable
	utilization metric.Float64ObservableGauge
	limit       metric.Int64ObservableGauge
	heapLive    metric.Int64ObservableUpDownCounter
	heapObjects metric.Int64ObservableUpDownCounter
	gcCycles    metric.Int64ObservableCounter
	baseline    metric.Int64ObservableGauge
	growth      metric.Int64ObservableGauge

	cgroupUsage       metric.Int64ObservableUpDownCounter
	cgroupWorkingSet  metric.Int64ObservableUpDownCounter
	cgroupUtilization metric.Float64ObservableGauge
	cgroupEvents      metric.Int64ObservableCounter
	pressureStall     metric.Float64ObservableCounter
	pressureAvg10     metric.Float64ObservableGauge
	gcCPU             metric.Float64ObservableGauge

	// Attribute options are built once so a collection does not allocate
	// them again.
	bySource              map[LimitSource]metric.MeasurementOption
	typeRSS, typeHeapLive metric.MeasurementOption
	byEvent               map[string]metric.MeasurementOption
	some, full            metric.MeasurementOption
}

func newInstruments(meter metric.Meter) (instruments, error) {
	var (
		in   instruments
		errs [16]error
	)
	in.usage, errs[0] = processconv.NewMemoryUsageObservable(meter)
	in.virtual, errs[1] = processconv.NewMemoryVirtualObservable(meter)
	in.utilization, errs[2] = meter.Float64ObservableGauge(metricUtilization,
		metric.WithUnit("1"),
		metric.WithDescription("Resident memory as a fraction of the memory limit that applies to the process (see memwatch.memory.limit)."))
	in.limit, errs[3] = meter.Int64ObservableGauge(metricLimit,
		metric.WithUnit("By"),
		metric.WithDescription("The memory limit that applies to the process: its cgroup limit, else GOMEMLIMIT, else host memory."))
	in.heapLive, errs[4] = meter.Int64ObservableUpDownCounter(metricHeapLive,
		metric.WithUnit("By"),
		metric.WithDescription("Heap memory occupied by live objects, as marked by the last completed GC."))
	in.heapObjects, errs[5] = meter.Int64ObservableUpDownCounter(metricHeapObjects,
		metric.WithUnit("{object}"),
		metric.WithDescription("Heap objects allocated and not yet swept, live or dead."))
	in.gcCycles, errs[6] = meter.Int64ObservableCounter(metricGCCycles,
		metric.WithUnit("{gc_cycle}"),
		metric.WithDescription("Completed GC cycles."))
	in.baseline, errs[7] = meter.Int64ObservableGauge(metricBaseline,
		metric.WithUnit("By"),
		metric.WithDescription("Memory at the baseline (Start or the last Rebaseline), by memwatch.memory.type."))
	in.growth, errs[8] = meter.Int64ObservableGauge(metricGrowth,
		metric.WithUnit("By"),
		metric.WithDescription("Memory growth over the baseline, by memwatch.memory.type; negative when memory shrank."))
	in.cgroupUsage, errs[9] = meter.Int64ObservableUpDownCounter(metricCgroupUsage,
		metric.WithUnit("By"),
		metric.WithDescription("Memory charged to the process's cgroup (memory.current; v1 memory.usage_in_bytes), page cache included."))
	in.cgroupWorkingSet, errs[10] = meter.Int64ObservableUpDownCounter(metricCgroupWorkingSet,
		metric.WithUnit("By"),
		metric.WithDescription("The cgroup's usage minus its inactive file cache, as the kubelet computes the working set for eviction."))
	in.cgroupUtilization, errs[11] = meter.Float64ObservableGauge(metricCgroupUtilization,
		metric.WithUnit("1"),
		metric.WithDescription("The cgroup's working set as a fraction of the memory limit that applies (see memwatch.memory.limit)."))
	in.cgroupEvents, errs[12] = meter.Int64ObservableCounter(metricCgroupEvents,
		metric.WithUnit("{event}"),
		metric.WithDescription("The cgroup's memory events (memory.events), by memwatch.cgroup.memory.event: low, high, max, oom, oom_kill."))
	in.pressureStall, errs[13] = meter.Float64ObservableCounter(metricPressureStall,
		metric.WithUnit("s"),
		metric.WithDescription("Time tasks stalled waiting for memory (PSI total), by memwatch.memory.pressure.tasks: some or full."))
	in.pressureAvg10, errs[14] = meter.Float64ObservableGauge(metricPressureAvg10,
		metric.WithUnit("1"),
		metric.WithDescription("Share of the last 10 seconds tasks stalled waiting for memory (PSI avg10), by memwatch.memory.pressure.tasks."))
	in.gcCPU, errs[15] = meter.Float64ObservableGauge(metricGCCPU,
		metric.WithUnit("1"),
		metric.WithDescription("Share of the process's available CPU time the garbage collector took since the previous collection."))
	if err := errors.Join(errs[:]...); err != nil {
		return instruments{}, err
	}
	in.byEvent = make(map[string]metric.MeasurementOption, len(cgroup.EventNames))
	for _, e := range cgroup.EventNames {
		in.byEvent[e] = metric.WithAttributeSet(attribute.NewSet(attrCgroupEvent.String(e)))
	}
	in.some = metric.WithAttributeSet(attribute.NewSet(attrPressureTasks.String("some")))
	in.full = metric.WithAttributeSet(attribute.NewSet(attrPressureTasks.String("full")))
	in.bySource = make(map[LimitSource]metric.MeasurementOption, 4)
	for _, src := range []LimitSource{LimitSourceCgroup, LimitSourceCgroupHigh, LimitSourceGOMEMLIMIT, LimitSourceHost, LimitSourceUnknown} {
		in.bySource[src] = metric.WithAttributeSet(attribute.NewSet(attrLimitSource.String(string(src))))
	}
	in.typeRSS = metric.WithAttributeSet(attribute.NewSet(attrMemoryType.String("rss")))
	in.typeHeapLive = metric.WithAttributeSet(attribute.NewSet(attrMemoryType.String("heap_live")))
	return in, nil
}

func (in *instruments) observables() []metric.Observable {
	return []metric.Observable{
		in.usage.Inst(), in.virtual.Inst(), in.utilization, in.limit,
		in.heapLive, in.heapObjects, in.gcCycles, in.baseline, in.growth,
		in.cgroupUsage, in.cgroupWorkingSet, in.cgroupUtilization, in.cgroupEvents,
		in.pressureStall, in.pressureAvg10, in.gcCPU,
	}
}

// observe is the monitor's one callback: it reads every source once and
// observes what succeeded. A failed source is reported to otel.Handle, not
// returned: the SDK's periodic reader drops the whole export when a
// callback returns an error, which would hide the readings that worked.
func (m *Monitor) observe(_ context.Context, o metric.Observer) error {
	r, err := m.read()
	s := r.Snapshot
	if errors.Is(err, ErrShutdown) {
		return nil
	}
	in := &m.inst
	if r.procOK {
		o.ObserveInt64(in.usage.Inst(), int64(s.RSS))
		o.ObserveInt64(in.virtual.Inst(), int64(s.Virtual))
		if s.Limit > 0 {
			o.ObserveFloat64(in.utilization, s.Utilization, in.bySource[s.LimitSource])
		}
		if s.Baseline.RSS > 0 {
			o.ObserveInt64(in.baseline, int64(s.Baseline.RSS), in.typeRSS)
			o.ObserveInt64(in.growth, s.Delta, in.typeRSS)
		}
	}
	if s.Limit > 0 {
		o.ObserveInt64(in.limit, int64(s.Limit), in.bySource[s.LimitSource])
	}
	o.ObserveInt64(in.heapLive, int64(s.HeapLive))
	o.ObserveInt64(in.heapObjects, int64(s.HeapObjects))
	o.ObserveInt64(in.gcCycles, int64(s.GCCycles))
	o.ObserveInt64(in.baseline, int64(s.Baseline.HeapLive), in.typeHeapLive)
	o.ObserveInt64(in.growth, s.HeapLiveDelta, in.typeHeapLive)
	// One report per collection: the reporter says an error again only
	// after a collection without it.
	m.errs.Report(errors.Join(err, m.observeCgroupAndGC(o, r)))
	return nil
}
