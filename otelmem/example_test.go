package otelmem_test

import (
	"context"
	"fmt"
	"log"
	"os"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/memwatch/memwatch/otelmem"
)

// Start a monitor on the service's MeterProvider and log the startup
// checkpoints services log.
func ExampleStart() {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer mp.Shutdown(context.Background())

	mon, err := otelmem.Start(otelmem.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	defer mon.Shutdown(context.Background())

	ctx := context.Background()
	mon.LogCheckpoint(ctx, "Startup - baseline")
	// ... open the DB pool ...
	mon.LogCheckpoint(ctx, "After DB pool init")
	// Warm-up over: measure growth from here.
	if _, err := mon.Rebaseline(); err != nil {
		log.Print(err)
	}
}

func ExampleMonitor_Snapshot() {
	mon, err := otelmem.Start(otelmem.WithoutRuntimeInstrumentation())
	if err != nil {
		log.Fatal(err)
	}
	defer mon.Shutdown(context.Background())

	s, err := mon.Snapshot()
	if err != nil {
		log.Print(err) // the fields whose source worked are still filled
	}
	fmt.Printf("RSS %s of %s (%s limit), live heap %s, delta %s\n",
		mib(int64(s.RSS)), mib(int64(s.Limit)), s.LimitSource,
		mib(int64(s.HeapLive)), mib(s.Delta))
}

// When memory looks wrong: force a GC, then see what holds the rest.
func ExampleMonitor_TopAllocations() {
	mon, err := otelmem.Start(otelmem.WithoutRuntimeInstrumentation())
	if err != nil {
		log.Fatal(err)
	}
	defer mon.Shutdown(context.Background())

	gc, _ := mon.ForceGC()
	fmt.Printf("GC freed %s in %v\n", mib(gc.HeapFreed), gc.Duration)
	sites, err := mon.TopAllocations(5)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range sites {
		fmt.Printf("%s  %s\n", mib(s.InUseBytes), s)
	}
}

// Write a heap profile for `go tool pprof`.
func ExampleMonitor_WriteHeapProfile() {
	mon, err := otelmem.Start(otelmem.WithoutRuntimeInstrumentation())
	if err != nil {
		log.Fatal(err)
	}
	defer mon.Shutdown(context.Background())

	f, err := os.CreateTemp("", "heap-*.pb.gz")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := mon.WriteHeapProfile(f); err != nil {
		log.Fatal(err)
	}
	// go tool pprof -sample_index=inuse_space <file>
}

// mib renders bytes in MiB for the examples' output.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
