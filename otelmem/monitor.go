package otelmem

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/memwatch/memwatch/internal/errdedup"
	"github.com/memwatch/memwatch/internal/memread"
	"github.com/memwatch/memwatch/internal/procmem"
)

// ErrShutdown is returned by Shutdown after the first call, and by reads
// that need the process memory source after Shutdown.
var ErrShutdown = errors.New("otelmem: monitor is shut down")

// Baseline is the memory recorded at Start or at the last Rebaseline, the
// level growth is measured against.
type Baseline struct {
	Time     time.Time
	RSS      uint64
	HeapLive uint64
}

// Snapshot is the process's memory at one moment. All sizes are bytes. A
// field whose source failed is zero; Snapshot's error says which failed.
type Snapshot struct {
	Time time.Time

	RSS     uint64 // resident set size
	Virtual uint64 // committed virtual memory

	Limit       uint64      // the memory limit that applies to the process
	LimitSource LimitSource // where Limit came from
	Utilization float64     // RSS / Limit, 0 when either is unknown

	HeapLive    uint64 // live heap marked by the last GC (/gc/heap/live:bytes)
	HeapObjects uint64 // heap objects allocated and not yet swept
	HeapInUse   uint64 // bytes those objects occupy, dead or alive
	HeapGoal    uint64 // heap size at which the next GC starts
	HeapAllocs  uint64 // cumulative bytes allocated on the heap
	Stacks      uint64 // goroutine stack memory
	Goroutines  uint64
	GCCycles    uint64 // completed GC cycles

	Baseline Baseline
	// Delta is RSS growth over Baseline.RSS; negative when memory shrank.
	Delta int64
	// HeapLiveDelta is live heap growth over Baseline.HeapLive.
	HeapLiveDelta int64
}

// Monitor makes the process's memory observable. Create it with Start; its
// methods are safe for concurrent use.
type Monitor struct {
	cfg config

	// mu guards everything below: the sample buffer is reused by every read
	// so that steady-state reads do not allocate.
	mu         sync.Mutex
	proc       *procmem.Reader
	procErr    error           // why proc is nil
	rt         memread.Runtime // its buffer, guarded by mu
	limits     fileLimits
	limitsErr  error
	limitsRead time.Time
	baseline   Baseline
	closed     bool

	// Collection state: the CPU counters at the previous collection, the
	// cgroup limit GOMEMLIMIT was last set for and the limit that setting
	// replaced (while set), what was said once.
	prevGCCPU, prevTotalCPU float64
	gcShareLast             float64
	gcShareKnown            bool
	appliedFor              uint64
	replaced                int64
	applied                 bool
	notes                   sync.Map

	inst         instruments
	registration metric.Registration
	shutdownOnce sync.Once
	errs         errdedup.Reporter // collection errors, once per distinct error
}

// Start reads the baseline, registers the process and Go runtime memory
// instruments on the MeterProvider and, unless WithoutRuntimeInstrumentation
// is given, starts the contrib Go runtime instrumentation on it too, once
// per provider: a later Start on the same provider (after a Shutdown, say)
// leaves the running one as it is, so no runtime metric is counted twice.
//
// A memory source that cannot be opened (no /proc, say) does not fail Start:
// its readings are left out and the error goes to otel.Handle. Invalid
// options do fail it.
func Start(opts ...Option) (*Monitor, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	m := &Monitor{cfg: cfg}
	m.errs.Now = cfg.now
	m.proc, m.procErr = procmem.Open(cfg.root)
	// One report for every source that failed (the read joins procErr
	// with the others): two reports at once would be one too many for
	// the rate limit.
	if _, err := m.Rebaseline(); err != nil {
		m.errs.Report(err)
	}

	meter := cfg.meterProvider.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
	if m.inst, err = newInstruments(meter); err != nil {
		m.closeSource()
		return nil, fmt.Errorf("otelmem: create instruments: %w", err)
	}
	if m.registration, err = meter.RegisterCallback(m.observe, m.inst.observables()...); err != nil {
		m.closeSource()
		return nil, fmt.Errorf("otelmem: register callback: %w", err)
	}
	if cfg.runtimeMetrics {
		if err := startRuntimeOnce(cfg.meterProvider); err != nil {
			_ = m.Shutdown(context.Background())
			return nil, fmt.Errorf("otelmem: start runtime instrumentation: %w", err)
		}
	}
	return m, nil
}

// Shutdown unregisters the monitor's callback and releases its file
// descriptor. It runs once; later calls return ErrShutdown.
//
// Shut the MeterProvider down first when both go: its final collection
// and export then still carry the monitor's metrics. Shutdown after the
// provider's is fine.
//
// The contrib runtime instrumentation started alongside cannot be stopped:
// its Start keeps no handle to unregister. It stops reporting when the
// MeterProvider shuts down.
func (m *Monitor) Shutdown(context.Context) error {
	err := ErrShutdown
	m.shutdownOnce.Do(func() {
		var errs []error
		if m.registration != nil {
			if e := m.registration.Unregister(); e != nil {
				errs = append(errs, fmt.Errorf("otelmem: unregister callback: %w", e))
			}
		}
		errs = append(errs, m.closeSource())
		err = errors.Join(errs...)
	})
	return err
}

func (m *Monitor) closeSource() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	if m.proc == nil {
		return nil
	}
	return m.proc.Close()
}

// Snapshot reads the process's memory now. It costs about one pread and one
// runtime/metrics.Read and, in steady state, allocates nothing. When a
// source fails the other fields are still filled and the error says what
// failed.
func (m *Monitor) Snapshot() (Snapshot, error) {
	r, err := m.read()
	return r.Snapshot, err
}

// Rebaseline makes the current memory the new baseline that Delta and the
// memwatch.memory.growth metric are measured against. Services call it when
// their warm-up ends.
func (m *Monitor) Rebaseline() (Baseline, error) {
	r, err := m.read()
	s := r.Snapshot
	b := Baseline{Time: s.Time, RSS: s.RSS, HeapLive: s.HeapLive}
	m.mu.Lock()
	m.baseline = b
	m.mu.Unlock()
	return b, err
}

// reading is one read of every source: the Snapshot, and what a
// collection or ForceGC needs beside it.
type reading struct {
	Snapshot
	procOK bool           // RSS and Virtual were read
	rt     memread.Values // the runtime/metrics read
	limits fileLimits     // the file limits in force
}

// read fills a reading from every source once.
func (m *Monitor) read() (r reading, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return reading{}, ErrShutdown
	}
	s := &r.Snapshot
	s.Time = m.cfg.now()

	var procErr error
	if m.proc != nil {
		var u procmem.Usage
		if u, procErr = m.proc.Read(); procErr == nil {
			s.RSS, s.Virtual, r.procOK = u.RSS, u.Virtual, true
		}
	} else {
		procErr = m.procErr
	}

	v := m.rt.Read()
	r.rt = v
	s.HeapLive, s.HeapObjects, s.HeapInUse, s.HeapGoal = v.HeapLive, v.HeapObjects, v.HeapInUse, v.HeapGoal
	s.HeapAllocs, s.Stacks, s.Goroutines, s.GCCycles = v.HeapAllocs, v.Stacks, v.Goroutines, v.GCCycles

	if m.limitsRead.IsZero() || s.Time.Sub(m.limitsRead) >= m.cfg.limitRefreshInterval {
		m.limits, m.limitsErr = readFileLimits(m.cfg.root)
		m.limitsRead = s.Time
		m.applyCgroupLimit()
	}
	r.limits = m.limits
	s.Limit, s.LimitSource = effectiveLimit(m.limits, v.GOMEMLIMIT)
	if r.procOK && s.Limit > 0 {
		s.Utilization = float64(s.RSS) / float64(s.Limit)
	}

	s.Baseline = m.baseline
	if r.procOK && s.Baseline.RSS > 0 {
		s.Delta = int64(s.RSS) - int64(s.Baseline.RSS)
	}
	s.HeapLiveDelta = int64(s.HeapLive) - int64(s.Baseline.HeapLive)

	return r, errors.Join(procErr, m.limitsErr)
}
