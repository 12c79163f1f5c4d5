package spans_test

import (
	"context"
	"log"
	"os/exec"
	"sync"

	"go.opentelemetry.io/otel/attribute"

	"github.com/memwatch/memwatch/spans"
)

func parse(context.Context, string) error { return nil }

// The classic "Memory before parse ... after parse (Delta ...)" log pair as a span.
func ExampleTrack() {
	ctx := context.Background()
	err := spans.Track(ctx, "parse replay", func(ctx context.Context) error {
		return parse(ctx, "abc123")
	}, spans.WithAttributes(attribute.String("replay.hash", "abc123")))
	if err != nil {
		log.Print(err)
	}
}

// For code that cannot pass a closure.
func ExampleStart() {
	ctx, op := spans.Start(context.Background(), "load leaderboard")
	err := parse(ctx, "leaderboard")
	op.End(err)
}

// A startup sequence as one trace with a span per phase: work done with the
// context a checkpoint returns is a child of the phase it runs in.
func ExampleStartPhases() {
	ctx, startup := spans.StartPhases(context.Background(), "startup")
	defer startup.End()
	openDBPool(ctx)
	ctx = startup.Checkpoint("After DB pool init")
	loadStaticCache(ctx)
	ctx = startup.Checkpoint("After static cache init")
	startProcessPool(ctx)
	startup.Checkpoint("After process pool init")
}

func openDBPool(context.Context)       {}
func loadStaticCache(context.Context)  {}
func startProcessPool(context.Context) {}

// Run a subprocess worker as a span; the worker continues the trace.
func ExampleTrackCmd() {
	cmd := exec.Command("/usr/local/bin/replay-parser", "abc123")
	if err := spans.TrackCmd(context.Background(), cmd, spans.WithSpanName("parse replay abc123")); err != nil {
		log.Print(err) // the span says whether it failed to start, exited non-zero or was killed
	}
}

// In the worker's main: one call joins the parent's trace.
func ExampleContextFromEnv() {
	ctx := spans.ContextFromEnv(context.Background())
	_ = spans.Track(ctx, "parse replay", func(ctx context.Context) error { return parse(ctx, "abc123") })
}

// A goroutine pool tracks each job with Track inside the worker goroutine.
// memwatch.overlap on each span says how many jobs ran beside it, so a
// reader knows whose memory a delta may include.
func Example_workerPool() {
	ctx := context.Background()
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for region := range jobs {
				_ = spans.Track(ctx, "refresh leaderboard", func(ctx context.Context) error {
					return parse(ctx, region)
				}, spans.WithAttributes(attribute.String("region", region)))
			}
		})
	}
	for _, r := range []string{"eu", "us", "kr", "cn"} {
		jobs <- r
	}
	close(jobs)
	wg.Wait()
}
