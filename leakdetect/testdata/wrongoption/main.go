// This program must not compile: NewAnalyzer takes only analyzer options.
package main

import (
	"time"

	"github.com/memwatch/memwatch/leakdetect"
)

func main() {
	leakdetect.NewAnalyzer(leakdetect.WithInterval(time.Second)) // WANT
	leakdetect.NewAnalyzer(leakdetect.WithProfileDir("/tmp"))    // WANT
	leakdetect.NewAnalyzer(leakdetect.WithThreshold(1))
	leakdetect.Start(leakdetect.WithThreshold(1), leakdetect.WithInterval(time.Second))
}
