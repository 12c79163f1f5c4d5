package spans

import "go.opentelemetry.io/otel/attribute"

// Attribute keys memwatch puts on spans and span events. Semantic
// conventions have no memory-delta attributes, so they live under
// memwatch.; byte counts are integers.
const (
	AttrRSSBefore      = attribute.Key("memwatch.rss.before")
	AttrRSSAfter       = attribute.Key("memwatch.rss.after")
	AttrRSSDelta       = attribute.Key("memwatch.rss.delta")
	AttrHeapLiveBefore = attribute.Key("memwatch.heap.live.before")
	AttrHeapLiveAfter  = attribute.Key("memwatch.heap.live.after")
	AttrHeapLiveDelta  = attribute.Key("memwatch.heap.live.delta")
	AttrHeapAllocated  = attribute.Key("memwatch.heap.allocated")
	AttrGCCycles       = attribute.Key("memwatch.gc.cycles")
	AttrOverlap        = attribute.Key("memwatch.overlap")

	AttrCheckpoint         = attribute.Key("memwatch.checkpoint")
	AttrRSS                = attribute.Key("memwatch.rss")
	AttrHeapLive           = attribute.Key("memwatch.heap.live")
	AttrRSSBaselineDelta   = attribute.Key("memwatch.rss.baseline_delta")
	AttrHeapBaselineDelta  = attribute.Key("memwatch.heap.live.baseline_delta")
	AttrWorkerRSSPeak      = attribute.Key("memwatch.worker.rss.peak")
	AttrWorkerRSSSampleMax = attribute.Key("memwatch.worker.rss.sampled_max")
	AttrWorkerRSSSamples   = attribute.Key("memwatch.worker.rss.samples")
	AttrWorkerSignal       = attribute.Key("memwatch.worker.signal")
)

// Span event names.
const (
	EventCheckpoint = "memwatch.checkpoint"
	EventWorkerRSS  = "memwatch.worker.rss"
)

// beforeAttrs and afterAttrs render the two ends of an operation.
func beforeAttrs(b memory) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 2)
	if b.rssOK {
		attrs = append(attrs, AttrRSSBefore.Int64(int64(b.rss)))
	}
	return append(attrs, AttrHeapLiveBefore.Int64(int64(b.heapLive)))
}

func afterAttrs(b, a memory, overlap int64) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 7)
	if b.rssOK && a.rssOK {
		attrs = append(attrs,
			AttrRSSAfter.Int64(int64(a.rss)),
			AttrRSSDelta.Int64(int64(a.rss)-int64(b.rss)))
	}
	return append(attrs,
		AttrHeapLiveAfter.Int64(int64(a.heapLive)),
		AttrHeapLiveDelta.Int64(int64(a.heapLive)-int64(b.heapLive)),
		AttrHeapAllocated.Int64(int64(a.heapAllocs-b.heapAllocs)),
		AttrGCCycles.Int64(int64(a.gcCycles-b.gcCycles)),
		AttrOverlap.Int64(overlap),
	)
}
