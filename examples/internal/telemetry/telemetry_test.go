package telemetry

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestCheckEndpoint(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:4318", "https://collector.example:4317/"} {
		if err := checkEndpoint(ok); err != nil {
			t.Errorf("checkEndpoint(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"127.0.0.1:4318", "::not a url", "ftp://127.0.0.1", "http://", "http://:4318"} {
		if err := checkEndpoint(bad); err == nil {
			t.Errorf("checkEndpoint(%q) accepted a bad endpoint", bad)
		}
	}
}

// TestMalformedEndpointFallsBackToStdout: the example must start, say what
// is wrong, and keep exporting somewhere.
func TestMalformedEndpointFallsBackToStdout(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "not-a-url:4318")
	var logs, out bytes.Buffer
	p, err := Setup(context.Background(), Config{
		ServiceName: "test",
		Stdout:      &out,
		Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	defer p.Shutdown(context.Background())
	if p.Target != "stdout" {
		t.Errorf("Target = %q, want stdout", p.Target)
	}
	if !strings.Contains(logs.String(), "not-a-url:4318") {
		t.Errorf("the log does not name the bad endpoint: %s", logs.String())
	}
}

func TestUnknownProtocolFallsBackToStdout(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")
	var logs bytes.Buffer
	p, err := Setup(context.Background(), Config{ServiceName: "test", Stdout: &bytes.Buffer{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	defer p.Shutdown(context.Background())
	if p.Target != "stdout" || !strings.Contains(logs.String(), "carrier-pigeon") {
		t.Errorf("Target = %q, log %q; want stdout and the bad protocol named", p.Target, logs.String())
	}
}
