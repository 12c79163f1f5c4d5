package e2e

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

// logRecord is a log record as it left the Collector: its event name,
// trace and span IDs (hex), and its and its resource's attributes
// rendered as strings.
type logRecord struct {
	event, traceID, spanID, body string
	time                         time.Time
	attrs, resource              map[string]string
}

// logSink is an OTLP/HTTP logs endpoint on 127.0.0.1 that keeps what the
// Collector's logs pipeline exports to it (the stand-in for Loki, whose
// code is AGPL and runs in Compose only).
type logSink struct {
	port    int
	mu      sync.Mutex
	records []logRecord
}

func startLogSink(t *testing.T) *logSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &logSink{port: ln.Addr().(*net.TCPAddr).Port}
	srv := &http.Server{Handler: http.HandlerFunc(s.serve)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *logSink) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/logs" {
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(io.LimitReader(body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req collogspb.ExportLogsServiceRequest
	if err := proto.Unmarshal(data, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				rec := logRecord{
					event: lr.EventName, traceID: hex.EncodeToString(lr.TraceId), spanID: hex.EncodeToString(lr.SpanId),
					body: anyString(lr.Body), time: time.Unix(0, int64(lr.TimeUnixNano)).UTC(),
					attrs: map[string]string{}, resource: map[string]string{},
				}
				for _, kv := range lr.Attributes {
					rec.attrs[kv.Key] = anyString(kv.Value)
				}
				for _, kv := range rl.GetResource().GetAttributes() {
					rec.resource[kv.Key] = anyString(kv.Value)
				}
				s.records = append(s.records, rec)
			}
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&collogspb.ExportLogsServiceResponse{})
	_, _ = w.Write(out)
}

// events returns the records with the given event name.
func (s *logSink) events(name string) []logRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []logRecord
	for _, r := range s.records {
		if r.event == name {
			out = append(out, r)
		}
	}
	return out
}

func anyString(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return fmt.Sprint(x.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return fmt.Sprint(x.DoubleValue)
	case *commonpb.AnyValue_BoolValue:
		return fmt.Sprint(x.BoolValue)
	case *commonpb.AnyValue_ArrayValue:
		var parts []string
		for _, e := range x.ArrayValue.Values {
			parts = append(parts, anyString(e))
		}
		return fmt.Sprint(parts)
	default:
		return ""
	}
}
