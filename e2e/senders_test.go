package e2e

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"

	"github.com/memwatch/memwatch/leakdetect"
)

// series is a process's RSS over time, sent as process.memory.usage of a
// resource named by its service.instance.id.
type series struct {
	instance string
	times    []time.Time
	rss      []uint64
}

// makeSeries is n points a second apart (a 60x time scale makes them a
// minute apart to the analyzer) from start: 200 MiB with 1% noise, and
// from leakAt on growing 2% of it a point when leakAt >= 0.
func makeSeries(instance string, start time.Time, n, leakAt int, seed uint64) series {
	r := rand.New(rand.NewPCG(seed, 7))
	s := series{instance: instance}
	level := 200.0 * (1 << 20)
	for i := range n {
		v := level * (1 + 0.01*r.NormFloat64())
		if leakAt >= 0 && i >= leakAt {
			v += 0.02 * level * float64(i-leakAt)
		}
		s.times = append(s.times, start.Add(time.Duration(i)*time.Second))
		s.rss = append(s.rss, uint64(math.Max(v, 0)))
	}
	return s
}

// expected is what the analyzer itself finds on s's points at the
// connector's time scale: the finding times.
func (s series) expected(t *testing.T, scale float64) []time.Time {
	t.Helper()
	a, err := leakdetect.NewAnalyzer(leakdetect.WithTimeScale(scale))
	if err != nil {
		t.Fatal(err)
	}
	var out []time.Time
	for i := range s.times {
		for _, f := range a.Observe(leakdetect.Sample{Time: s.times[i], RSS: s.rss[i]}) {
			out = append(out, f.Time)
		}
	}
	return out
}

// sendMetrics posts points [from, to) of every series to an OTLP/HTTP
// metrics endpoint, a minute of points a request, and waits for each
// answer: the receiver answers once the pipeline has consumed them.
func sendMetrics(t *testing.T, endpoint string, all []series, from, to int) {
	t.Helper()
	for lo := from; lo < to; lo += 60 {
		hi := min(lo+60, to)
		req := &colmetricspb.ExportMetricsServiceRequest{}
		for _, s := range all {
			var pts []*metricspb.NumberDataPoint
			for i := lo; i < hi && i < len(s.times); i++ {
				pts = append(pts, &metricspb.NumberDataPoint{
					TimeUnixNano: uint64(s.times[i].UnixNano()),
					Value:        &metricspb.NumberDataPoint_AsInt{AsInt: int64(s.rss[i])},
				})
			}
			req.ResourceMetrics = append(req.ResourceMetrics, &metricspb.ResourceMetrics{
				Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
					{Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "fleet"}}},
					{Key: "service.instance.id", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s.instance}}},
				}},
				ScopeMetrics: []*metricspb.ScopeMetrics{{Metrics: []*metricspb.Metric{{
					Name: "process.memory.usage", Unit: "By",
					Data: &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: pts}},
				}}}},
			})
		}
		body, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(endpoint, "application/x-protobuf", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("send metrics: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("send metrics: %s: %s", resp.Status, b)
		}
	}
}

// findingsByInstance counts the sink's findings by service.instance.id.
func findingsByInstance(s *logSink) map[string][]string {
	out := map[string][]string{}
	for _, r := range s.events("memwatch.leak.suspected") {
		out[r.resource["service.instance.id"]] = append(out[r.resource["service.instance.id"]], fmt.Sprint(r.attrs["memwatch.leak.reason"]))
	}
	return out
}
