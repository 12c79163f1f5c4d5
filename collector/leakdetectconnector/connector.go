package leakdetectconnector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/memwatch/memwatch/leakdetect"
)

// maxPointAttributes bounds the attributes of a point the connector makes
// a stream of: a point with more is refused, not kept as an identity of a
// few kilobytes.
const maxPointAttributes = 128

// leakConnector analyzes the configured memory series of a metrics
// pipeline and writes the findings to a logs pipeline, and the streams'
// state to a metrics pipeline, whichever it is given.
type leakConnector struct {
	self      component.ID
	logger    *zap.Logger
	storageID *component.ID
	saveEvery time.Duration
	store     storage.Client // nil without storage
	stopSaver chan struct{}
	saverDone chan struct{}

	nextLogs    consumer.Logs    // nil without a logs output
	nextMetrics consumer.Metrics // nil without a metrics output
	metrics     map[string]MetricConfig
	limits      map[string]bool
	now         func() time.Time // the arrival clock idle streams are judged by
	tel         *telemetry

	// Shared by the connector's outputs: started and shut down once, and
	// forgotten by the factory at shutdown.
	started, stopped  sync.Once
	startErr, stopErr error
	forget            func()

	mu       sync.Mutex
	streams  *streams
	limitsBy map[string]limitSeen // by resource identity
}

// limitSeen is the newest memory limit of a resource, and when it came.
type limitSeen struct {
	bytes uint64
	seen  time.Time
}

// newConnector makes a connector whose findings go to nextLogs (nil for
// none); its metrics output is set apart.
func newConnector(set connector.Settings, cfg *Config, nextLogs consumer.Logs) (*leakConnector, error) {
	var opts []leakdetect.AnalyzerOption
	if cfg.TimeScale > 1 {
		opts = append(opts, leakdetect.WithTimeScale(cfg.TimeScale))
	}
	c := &leakConnector{
		self:      set.ID,
		logger:    set.Logger,
		storageID: cfg.Storage,
		saveEvery: cfg.SaveInterval,
		nextLogs:  nextLogs,
		metrics:   map[string]MetricConfig{},
		limits:    map[string]bool{},
		now:       time.Now,
		streams:   newStreams(cfg.MaxStreams, cfg.IdleTimeout, opts),
		limitsBy:  map[string]limitSeen{},
	}
	for _, m := range cfg.metrics() {
		c.metrics[m.Name] = m
	}
	for _, l := range cfg.limits() {
		c.limits[l] = true
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	c.tel = tel
	return c, nil
}

// Start opens the storage, when one is configured, restores the streams
// saved there and starts saving them every SaveInterval. A storage that
// cannot be opened fails the start (the configuration names it); a saved
// stream that cannot be restored starts afresh.
func (c *leakConnector) Start(ctx context.Context, host component.Host) error {
	client, err := storageClient(ctx, host, c.storageID, c.self)
	if err != nil {
		return fmt.Errorf("leakdetect: %w", err)
	}
	if client == nil {
		return nil
	}
	c.store = client
	c.streams.trackGone = true
	restored, bad := c.restore(ctx)
	c.mu.Lock()
	c.tel.streams(ctx, c.streams)
	c.mu.Unlock()
	c.logger.Info("leakdetect: streams restored", zap.Int("restored", restored), zap.Int("unreadable", bad))
	c.stopSaver, c.saverDone = make(chan struct{}), make(chan struct{})
	go c.saveEveryInterval()
	return nil
}

func (c *leakConnector) saveEveryInterval() {
	defer close(c.saverDone)
	t := time.NewTicker(c.saveEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stopSaver:
			return
		case <-t.C:
			if err := c.save(context.Background()); err != nil {
				c.logger.Warn("leakdetect: saving the streams' state", zap.Error(err))
			}
		}
	}
}

// Shutdown saves the streams, when a storage is configured, and closes it.
func (c *leakConnector) Shutdown(ctx context.Context) error {
	var errs []error
	if c.store != nil {
		close(c.stopSaver)
		<-c.saverDone
		errs = append(errs, c.save(ctx), c.store.Close(ctx))
		c.store = nil
	}
	if c.tel != nil {
		errs = append(errs, c.tel.shutdown())
	}
	return errors.Join(errs...)
}

func (c *leakConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// ConsumeMetrics feeds every point of the configured metrics to its
// stream's analyzer and sends the findings, and the streams' state, on.
func (c *leakConnector) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	b := batch{logs: plog.NewLogs()}
	if c.nextMetrics != nil {
		b.status = newStatusMetrics()
	}
	c.mu.Lock()
	now := c.now()
	for _, rm := range md.ResourceMetrics().All() {
		res := rm.Resource()
		rkey := attrsKey(res.Attributes())
		c.readLimits(rm, rkey, now)
		limit := c.limitsBy[rkey].bytes
		if b.status != nil {
			b.status.resource(res)
		}
		for _, sm := range rm.ScopeMetrics().All() {
			skey := scopeKey(sm.Scope())
			for _, m := range sm.Metrics().All() {
				mc, ok := c.metrics[m.Name()]
				if !ok {
					continue
				}
				points, ok := numberPoints(m)
				if !ok {
					c.tel.refused(ctx, reasonType, 1)
					continue
				}
				for _, dp := range points.All() {
					c.observe(ctx, &b, res, rkey, skey, m.Name(), mc, dp, limit, now)
				}
			}
		}
	}
	c.streams.dropIdle(now)
	c.tel.streams(ctx, c.streams)
	for k, l := range c.limitsBy {
		if now.Sub(l.seen) > c.streams.idle {
			delete(c.limitsBy, k)
		}
	}
	c.mu.Unlock()
	var errs []error
	if c.nextLogs != nil && b.logs.LogRecordCount() > 0 {
		errs = append(errs, c.nextLogs.ConsumeLogs(ctx, b.logs))
	}
	if b.status != nil && b.status.out.DataPointCount() > 0 {
		errs = append(errs, c.nextMetrics.ConsumeMetrics(ctx, b.status.out))
	}
	return errors.Join(errs...)
}

// batch is what one ConsumeMetrics call sends on: findings as logs, and
// the streams' state when the connector has a metrics output.
type batch struct {
	logs   plog.Logs
	status *statusMetrics // nil without a metrics output
}

// observe feeds one point to its stream and adds what it raises to b.
func (c *leakConnector) observe(ctx context.Context, b *batch, res pcommon.Resource, rkey, skey, metric string, mc MetricConfig, dp pmetric.NumberDataPoint, limit uint64, now time.Time) {
	if !matches(mc.Attributes, dp.Attributes()) {
		return
	}
	if dp.Attributes().Len() > maxPointAttributes {
		c.tel.refused(ctx, reasonAttributes, 1)
		return
	}
	v, ok := pointValue(dp)
	if !ok {
		c.tel.refused(ctx, reasonValue, 1)
		return
	}
	st, err := c.streams.get(streamKey(metric, rkey, skey, dp.Attributes()), now)
	if err != nil {
		c.tel.refused(ctx, reasonValue, 1)
		return
	}
	t := dp.Timestamp().AsTime()
	if !t.After(st.last) {
		c.tel.refused(ctx, reasonOrder, 1)
		return
	}
	if st.start == 0 {
		st.start = dp.Timestamp()
	}
	st.last = t
	s := leakdetect.Sample{Time: t, Limit: limit}
	switch mc.Signal {
	case leakdetect.SignalHeapLive:
		s.HeapLive = uint64(v)
	case leakdetect.SignalRSS:
		s.RSS = uint64(v)
	case leakdetect.SignalGoroutines:
		s.Goroutines = int64(v)
	}
	for _, f := range st.analyzer.Observe(s) {
		appendFinding(b.logs, res, metric, dp.Attributes(), f, now)
		c.tel.found(ctx, f)
		st.countFinding(f.Reason)
	}
	if b.status != nil {
		b.status.add(st, metric, mc.Signal, dp.Attributes(), dp.Timestamp())
	}
}

// readLimits keeps the newest memory limit among rm's limit metrics.
func (c *leakConnector) readLimits(rm pmetric.ResourceMetrics, rkey string, now time.Time) {
	for _, sm := range rm.ScopeMetrics().All() {
		for _, m := range sm.Metrics().All() {
			if !c.limits[m.Name()] {
				continue
			}
			points, ok := numberPoints(m)
			if !ok {
				continue
			}
			for _, dp := range points.All() {
				if v, ok := pointValue(dp); ok && v > 0 {
					c.limitsBy[rkey] = limitSeen{bytes: uint64(v), seen: now}
				}
			}
		}
	}
}

// numberPoints are m's points when it is a gauge or a sum that can go
// down (a level, not a running total); ok is false for any other type.
func numberPoints(m pmetric.Metric) (pmetric.NumberDataPointSlice, bool) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints(), true
	case pmetric.MetricTypeSum:
		if !m.Sum().IsMonotonic() {
			return m.Sum().DataPoints(), true
		}
	}
	return pmetric.NumberDataPointSlice{}, false
}

// pointValue is dp's value when it is a number a sample holds: finite,
// not negative, below 2^63.
func pointValue(dp pmetric.NumberDataPoint) (float64, bool) {
	var v float64
	switch dp.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		v = float64(dp.IntValue())
	case pmetric.NumberDataPointValueTypeDouble:
		v = dp.DoubleValue()
	default:
		return 0, false
	}
	if math.IsNaN(v) || v < 0 || v >= math.MaxInt64 {
		return 0, false
	}
	return v, true
}

// matches reports whether attrs hold every wanted value.
func matches(want map[string]string, attrs pcommon.Map) bool {
	for k, w := range want {
		v, ok := attrs.Get(k)
		if !ok || v.AsString() != w {
			return false
		}
	}
	return true
}
