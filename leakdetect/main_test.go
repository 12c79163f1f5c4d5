package leakdetect

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// TestLeakedGoroutinesNameTheLeak (Go 1.27) leaks goroutines on purpose.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/memwatch/memwatch/leakdetect.leakOnUnreachableChannel.func1"))
}
