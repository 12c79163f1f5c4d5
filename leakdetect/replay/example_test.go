package replay_test

import (
	"fmt"
	"strings"

	"github.com/memwatch/memwatch/leakdetect"
	"github.com/memwatch/memwatch/leakdetect/replay"
)

// A recording through the analyzer: every sample, in file order.
func ExampleRead() {
	csv := "time,heap_live,rss\n" +
		"2026-01-05T00:00:00Z,200000000,300000000\n" +
		"2026-01-05T00:00:10Z,200100000,300200000\n"
	a, _ := leakdetect.NewAnalyzer()
	n := 0
	err := replay.Read(strings.NewReader(csv), func(s leakdetect.Sample) error {
		n++
		a.Observe(s)
		return nil
	})
	fmt.Println(n, err)
	// Output: 2 <nil>
}
