package spans

import (
	"context"
	"runtime/debug"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

const mib = 1 << 20

func newRecorder(t *testing.T) (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return rec, tp
}

// attr returns the span attribute or event attribute named key.
func attr(attrs []attribute.KeyValue, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range attrs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func intAttr(t *testing.T, attrs []attribute.KeyValue, key attribute.Key) int64 {
	t.Helper()
	v, ok := attr(attrs, key)
	if !ok {
		t.Fatalf("attribute %s missing from %v", key, attrs)
	}
	return v.AsInt64()
}

// releaseFreeMemory returns every free heap page to the OS, so that the
// next allocation must fault in fresh pages and shows in RSS, and the
// scavenger has nothing left to release in the middle of a measurement.
func releaseFreeMemory() { debug.FreeOSMemory() }

// touchedBytes allocates n bytes and writes every page so they are resident.
func touchedBytes(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}
