package leakdetectconnector

import (
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"

	"github.com/memwatch/memwatch/collector/leakdetectconnector/internal/metadata"
	"github.com/memwatch/memwatch/leakdetect"
)

// attrMetric names the metric a finding was made on.
const attrMetric = "memwatch.leak.metric"

// appendFinding adds f as a log record on a copy of the stream's
// resource: event name memwatch.leak.suspected, the finding's attributes
// as the library's events carry them, the metric's name, and the point's
// attributes.
func appendFinding(logs plog.Logs, res pcommon.Resource, metric string, point pcommon.Map, f leakdetect.Finding, now time.Time) {
	rl := logs.ResourceLogs().AppendEmpty()
	res.CopyTo(rl.Resource())
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	sl.Scope().SetVersion(leakdetect.Version)
	lr := sl.LogRecords().AppendEmpty()
	lr.SetEventName(leakdetect.EventLeakSuspected)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(f.Time))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(now))
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
	lr.Body().SetStr(fmt.Sprintf("%s leak suspected (%s) in %s", f.Signal, f.Reason, metric))
	attrs := lr.Attributes()
	point.CopyTo(attrs)
	attrs.PutStr(attrMetric, metric)
	for _, kv := range f.Attributes() {
		putAttr(attrs, kv)
	}
}

// putAttr copies an OpenTelemetry Go attribute into a pdata map.
func putAttr(m pcommon.Map, kv attribute.KeyValue) {
	k := string(kv.Key)
	switch kv.Value.Type() {
	case attribute.INT64:
		m.PutInt(k, kv.Value.AsInt64())
	case attribute.FLOAT64:
		m.PutDouble(k, kv.Value.AsFloat64())
	case attribute.BOOL:
		m.PutBool(k, kv.Value.AsBool())
	default:
		m.PutStr(k, kv.Value.Emit())
	}
}
