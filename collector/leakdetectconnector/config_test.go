package leakdetectconnector

import (
	"math"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
)

func TestFactoryAndDefaults(t *testing.T) {
	f := NewFactory()
	if f.Type().String() != "leakdetect" {
		t.Errorf("type %q, want leakdetect", f.Type())
	}
	cfg := f.CreateDefaultConfig().(*Config)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	if cfg.MaxStreams != 100_000 || cfg.IdleTimeout != 6*time.Hour || cfg.TimeScale != 1 {
		t.Errorf("defaults %+v", cfg)
	}
	if got := len(cfg.metrics()); got != len(DefaultMetrics) {
		t.Errorf("%d metrics in effect, want the %d defaults", got, len(DefaultMetrics))
	}
	var _ component.Config = cfg
}

// TestValidateNamesTheBadValue: every bad field is reported at once, each
// naming the value at fault.
func TestValidateNamesTheBadValue(t *testing.T) {
	cfg := &Config{
		Metrics: []MetricConfig{
			{Name: "process.memory.usage", Signal: "memory"},
			{Name: "", Signal: "rss"},
			{Name: "jvm.memory.used", Signal: "heap_live"},
			{Name: "jvm.memory.used", Signal: "heap_live"},
		},
		Limits:      []string{"jvm.memory.used", ""},
		MaxStreams:  0,
		IdleTimeout: -time.Second,
		TimeScale:   math.NaN(),
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, want := range []string{
		`metrics[0] ("process.memory.usage"): signal "memory"; want heap_live, rss or goroutines`,
		"metrics[1]: name is empty",
		`metrics[3]: "jvm.memory.used" is listed twice`,
		`limits[0]: "jvm.memory.used" is also a metric to analyze`,
		"limits[1]: name is empty",
		"max_streams 0: must be positive",
		"idle_timeout -1s: must be positive",
		"time_scale NaN: must be finite and at least 1",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v\nwant it to hold %q", err, want)
		}
	}
	huge := &Config{MaxStreams: 1, IdleTimeout: time.Hour, TimeScale: 1e12}
	if err := huge.Validate(); err == nil || !strings.Contains(err.Error(), "time_scale 1e+12") {
		t.Errorf("time scale that leaves no bucket: %v", err)
	}
}
