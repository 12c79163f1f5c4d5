package frames

import "testing"

func TestIsRuntime(t *testing.T) {
	for fn, want := range map[string]bool{
		"runtime.mallocgc":                         true,
		"internal/runtime/maps.newarray":           true,
		"runtime/pprof.writeHeap":                  false,
		"main.leak":                                false,
		"github.com/x/runtime.Thing":               false,
		"github.com/memwatch/memwatch/spans.Track": false,
	} {
		if got := IsRuntime(fn); got != want {
			t.Errorf("IsRuntime(%q) = %v, want %v", fn, got, want)
		}
	}
}
