package leakdetectconnector

import (
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// streamKey is a stream's identity: the metric's name, its resource's and
// scope's identity, and the point's attributes, each attribute set in key
// order so that the order a sender wrote them in does not make two
// streams of one.
func streamKey(metric, resource, scope string, point pcommon.Map) string {
	var b strings.Builder
	b.WriteString(metric)
	b.WriteByte(0)
	b.WriteString(resource)
	b.WriteByte(0)
	b.WriteString(scope)
	b.WriteByte(0)
	writeAttrs(&b, point)
	return b.String()
}

// attrsKey is an attribute set's identity, in key order.
func attrsKey(m pcommon.Map) string {
	var b strings.Builder
	writeAttrs(&b, m)
	return b.String()
}

func scopeKey(s pcommon.InstrumentationScope) string {
	return s.Name() + "\x00" + s.Version()
}

func writeAttrs(b *strings.Builder, m pcommon.Map) {
	keys := make([]string, 0, m.Len())
	for k := range m.All() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, _ := m.Get(k)
		b.WriteString(strconv.Quote(k))
		b.WriteByte('=')
		b.WriteString(v.Type().String()) // an int 1 is not the string "1"
		b.WriteString(strconv.Quote(v.AsString()))
		b.WriteByte(';')
	}
}
