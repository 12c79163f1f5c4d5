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
// resource.
//
// The streams it keeps are bounded (max_streams, the least recently seen
// evicted beyond it; streams silent for idle_timeout dropped), and it
// counts what it refuses: points that are not numbers, negative, or out
// of order, and points of a metric type the analyzer cannot read.
package leakdetectconnector
