// Command memhog holds memory the way a service does, for the end-to-end
// tests of the leakdetect connector: -base MiB held from the start, and
// -grow bytes a second added and kept (a leak), or none (a steady
// process). It touches what it holds so it is resident, and churns a
// little garbage so its RSS moves as a live service's does. It runs until
// killed.
package main

import (
	"flag"
	"time"
)

func main() {
	base := flag.Int("base", 30, "MiB held from the start")
	grow := flag.Int("grow", 0, "bytes a second added and kept")
	flag.Parse()
	held := [][]byte{touch(make([]byte, *base<<20))}
	tick := time.NewTicker(100 * time.Millisecond)
	for i := 0; ; i++ {
		<-tick.C
		if *grow > 0 {
			held = append(held, touch(make([]byte, *grow/10)))
		}
		garbage := touch(make([]byte, 256<<10))
		_ = garbage
	}
}

// touch writes a byte in every page of b, so its pages are resident.
func touch(b []byte) []byte {
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}
