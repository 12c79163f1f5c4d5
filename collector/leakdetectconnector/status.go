package leakdetectconnector

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/memwatch/memwatch/collector/leakdetectconnector/internal/metadata"
	"github.com/memwatch/memwatch/leakdetect"
)

// statusMetrics builds the connector's metrics output: for every point
// it analyzes, its stream's state as the alerting metrics the library's
// Detector exports (suspected, growth rate, time to limit, findings), on
// a copy of the point's resource, with the point's attributes and
// memwatch.leak.signal and memwatch.leak.metric. The alert rules written
// for memwatch's own metrics then hold for any stream.
type statusMetrics struct {
	out     pmetric.Metrics
	res     pcommon.Resource // the input resource being reported on
	sm      pmetric.ScopeMetrics
	started bool // sm belongs to res
	byName  map[string]pmetric.Metric
}

func newStatusMetrics() *statusMetrics {
	return &statusMetrics{out: pmetric.NewMetrics(), byName: map[string]pmetric.Metric{}}
}

// resource makes res the resource of the points added next.
func (s *statusMetrics) resource(res pcommon.Resource) {
	s.res, s.started = res, false
	clear(s.byName)
}

// add reports st's state after its point at t.
func (s *statusMetrics) add(st *stream, metric, signal string, point pcommon.Map, t pcommon.Timestamp) {
	a := st.analyzer
	suspected := int64(0)
	if a.Suspected(signal) {
		suspected = 1
	}
	s.point(leakdetect.MetricSuspected, "{leak}", metric, signal, point, t).SetIntValue(suspected)
	if signal == leakdetect.SignalGoroutines {
		s.point(leakdetect.MetricGoroutineGrowthRate, "{goroutine}/h", metric, signal, point, t).SetDoubleValue(a.Rate(signal))
	} else {
		s.point(leakdetect.MetricGrowthRate, "By/h", metric, signal, point, t).SetDoubleValue(a.Rate(signal))
	}
	if left := a.TimeToLimit(signal); left > 0 {
		s.point(leakdetect.MetricTimeToLimit, "s", metric, signal, point, t).SetDoubleValue(left.Seconds())
	}
	for _, f := range st.found {
		dp := s.point(leakdetect.MetricFindings, "{finding}", metric, signal, point, t)
		dp.SetStartTimestamp(st.start)
		dp.Attributes().PutStr("memwatch.leak.reason", f.reason)
		dp.SetIntValue(f.count)
	}
}

// point appends a point to the named metric of the current resource.
func (s *statusMetrics) point(name, unit, metric, signal string, point pcommon.Map, t pcommon.Timestamp) pmetric.NumberDataPoint {
	m, ok := s.byName[name]
	if !ok {
		if !s.started {
			rm := s.out.ResourceMetrics().AppendEmpty()
			s.res.CopyTo(rm.Resource())
			s.sm = rm.ScopeMetrics().AppendEmpty()
			s.sm.Scope().SetName(metadata.ScopeName)
			s.sm.Scope().SetVersion(leakdetect.Version)
			s.started = true
		}
		m = s.sm.Metrics().AppendEmpty()
		m.SetName(name)
		m.SetUnit(unit)
		if name == leakdetect.MetricFindings {
			sum := m.SetEmptySum()
			sum.SetIsMonotonic(true)
			sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		} else {
			m.SetEmptyGauge()
		}
		s.byName[name] = m
	}
	var dp pmetric.NumberDataPoint
	if m.Type() == pmetric.MetricTypeSum {
		dp = m.Sum().DataPoints().AppendEmpty()
	} else {
		dp = m.Gauge().DataPoints().AppendEmpty()
	}
	dp.SetTimestamp(t)
	point.CopyTo(dp.Attributes())
	dp.Attributes().PutStr("memwatch.leak.signal", signal)
	dp.Attributes().PutStr(attrMetric, metric)
	return dp
}

// reasonCount is how many findings of one reason a stream has drawn since
// the connector started tracking it.
type reasonCount struct {
	reason string
	count  int64
}

// countFinding adds a finding of reason to st's counts.
func (st *stream) countFinding(reason string) {
	for i := range st.found {
		if st.found[i].reason == reason {
			st.found[i].count++
			return
		}
	}
	st.found = append(st.found, reasonCount{reason: reason, count: 1})
}
