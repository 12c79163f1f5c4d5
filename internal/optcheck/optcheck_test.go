package optcheck

import (
	"strings"
	"testing"
)

func TestErrorsNameTheOptionAndValue(t *testing.T) {
	e := For("spans")
	if e.Err() != nil {
		t.Fatalf("no option recorded, Err %v; want nil", e.Err())
	}
	e.Bad("WithSampleInterval(%v): must be at least %v", "1ms", "10ms")
	e.Nil("WithLogger", "logger")
	e.NilOption("option")
	got := e.Err().Error()
	for _, want := range []string{
		"spans: WithSampleInterval(1ms): must be at least 10ms",
		"spans: WithLogger: logger is nil",
		"spans: nil option",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Err() = %q, want it to hold %q", got, want)
		}
	}
}
