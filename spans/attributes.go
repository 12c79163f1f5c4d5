package spans

import "go.opentelemetry.io/otel/attribute"

// Attribute keys memwatch puts on spans and span events. Semantic
// conventions have no memory-delta attributes, so they live under
// memwatch.; byte counts are integers.
const (
	attrRSSBefore      = attribute.Key("memwatch.operation.rss.before")
	attrRSSAfter       = attribute.Key("memwatch.operation.rss.after")
	attrRSSDelta       = attribute.Key("memwatch.operation.rss.delta")
	attrHeapLiveBefore = attribute.Key("memwatch.operation.heap_live.before")
	attrHeapLiveAfter  = attribute.Key("memwatch.operation.heap_live.after")
	attrHeapLiveDelta  = attribute.Key("memwatch.operation.heap_live.delta")
	attrHeapAllocated  = attribute.Key("memwatch.operation.heap_allocated")
	attrGCCycles       = attribute.Key("memwatch.operation.gc_cycles")
	attrOverlap        = attribute.Key("memwatch.operation.overlap")

	attrCheckpoint          = attribute.Key("memwatch.checkpoint.label")
	attrCheckpointRSS       = attribute.Key("memwatch.checkpoint.rss")
	attrCheckpointHeapLive  = attribute.Key("memwatch.checkpoint.heap_live")
	attrRSSBaselineDelta    = attribute.Key("memwatch.checkpoint.rss_growth")
	attrHeapBaselineDelta   = attribute.Key("memwatch.checkpoint.heap_live_growth")
	attrWorkerRSSPeak       = attribute.Key("memwatch.worker.rss_peak")
	attrWorkerRSSPeakSource = attribute.Key("memwatch.worker.rss_peak_source")
	attrWorkerRSSSampleMax  = attribute.Key("memwatch.worker.rss_sampled_max")
	attrWorkerRSSSamples    = attribute.Key("memwatch.worker.rss_samples")
	attrWorkerSignal        = attribute.Key("memwatch.worker.signal")
	attrWorkerRSS           = attribute.Key("memwatch.worker.rss")
	attrWorkerOOMKilled     = attribute.Key("memwatch.worker.oom_killed")
)

// Span event names.
const (
	eventCheckpoint = "memwatch.checkpoint.reached"
	eventWorkerRSS  = "memwatch.worker.rss_sample"
)

// beforeAttrs and afterAttrs render the two ends of an operation.
func beforeAttrs(b memory) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 2)
	if b.rssOK {
		attrs = append(attrs, attrRSSBefore.Int64(int64(b.rss)))
	}
	return append(attrs, attrHeapLiveBefore.Int64(int64(b.heapLive)))
}

func afterAttrs(b, a memory, overlap int64) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 7)
	if b.rssOK && a.rssOK {
		attrs = append(attrs,
			attrRSSAfter.Int64(int64(a.rss)),
			attrRSSDelta.Int64(int64(a.rss)-int64(b.rss)))
	}
	return append(attrs,
		attrHeapLiveAfter.Int64(int64(a.heapLive)),
		attrHeapLiveDelta.Int64(int64(a.heapLive)-int64(b.heapLive)),
		attrHeapAllocated.Int64(int64(a.heapAllocs-b.heapAllocs)),
		attrGCCycles.Int64(int64(a.gcCycles-b.gcCycles)),
		attrOverlap.Int64(overlap),
	)
}
