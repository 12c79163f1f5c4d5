package leakdetect_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/memwatch/memwatch/leakdetect"
)

// Run the detector beside a service; it reports through the global
// OpenTelemetry providers and slog.
func ExampleStart() {
	det, err := leakdetect.Start(
		leakdetect.WithOnFinding(func(f leakdetect.Finding) {
			log.Printf("leak suspected: %s grew %d over %v", f.Signal, f.Growth, f.Window)
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer det.Shutdown(context.Background())
	// ... serve ...
}

// Replay a recorded series through the decision rule, no goroutine or
// clock involved.
func ExampleAnalyzer() {
	a, err := leakdetect.NewAnalyzer()
	if err != nil {
		log.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 6 * 360 { // six hours of 10-second samples
		at := time.Duration(i) * 10 * time.Second
		heap := 200e6 + 30e6*max(0, at.Hours()-1) // leaking 30 MB/h after the first hour
		for _, f := range a.Observe(leakdetect.Sample{
			Time: start.Add(at), HeapLive: uint64(heap), RSS: uint64(1.5 * heap), Goroutines: 40,
		}) {
			fmt.Printf("%s %s after %v, %d MB/h\n", f.Signal, f.Reason, (at - time.Hour).Round(time.Minute), f.Rate/1e6)
		}
	}
	// Output: heap_live trend after 22m0s, 30 MB/h
}
