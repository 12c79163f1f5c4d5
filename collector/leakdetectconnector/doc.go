// Package leakdetectconnector is an OpenTelemetry Collector connector
// (type leakdetect) that finds memory leaks in the memory series already
// flowing through a Collector: the hostmetrics process scraper's
// process.memory.usage for every process on a host, kubeletstats' and
// docker_stats' container working sets, JVM and Go runtime metrics, and
// memwatch's own. It reads a metrics pipeline, runs memwatch's analyzer
// (github.com/memwatch/memwatch/leakdetect) on each stream (a metric of
// one resource, scope and set of point attributes) on its own, and writes
// each finding to a logs pipeline as a log record with event name
// memwatch.leak.suspected and the finding's attributes, on the stream's
// resource; given a metrics pipeline too, it writes each stream's state
// there as the alerting metrics memwatch's Detector exports
// (memwatch.leak.suspected, .growth_rate, .time_to_limit, .findings). A
// connector feeding both runs one analysis for them.
//
// With a storage extension (file_storage) every stream's analyzer state is
// saved periodically and at shutdown and restored at start.
//
// The streams it keeps are bounded (max_streams, the least recently seen
// evicted beyond it; streams silent for idle_timeout dropped), and it
// counts what it refuses: points that are not numbers, negative, or out
// of order, and points of a metric type the analyzer cannot read.
package leakdetectconnector
