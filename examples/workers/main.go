package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/memwatch/memwatch/examples/internal/telemetry"
	"github.com/memwatch/memwatch/examples/internal/work"
	"github.com/memwatch/memwatch/otelmem"
	"github.com/memwatch/memwatch/spans"
)

func main() {
	worker := flag.String("worker", "", `run as a worker instead of the service: "parse"`)
	replay := flag.String("replay", "", "replay hash, in worker mode")
	rounds := flag.Int("rounds", 2, "rounds of replay parsing and leaderboard refreshes before stopping")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var err error
	switch *worker {
	case "":
		err = runService(logger, *rounds)
	case "parse":
		err = runParseWorker(logger, *replay)
	default:
		err = fmt.Errorf("-worker %q: want parse", *worker)
	}
	if err != nil {
		logger.Error("workers example failed", "error", err)
		os.Exit(1)
	}
}

// setup starts the SDK and a memory monitor and returns a function that
// stops both.
func setup(ctx context.Context, logger *slog.Logger, service string) (*otelmem.Monitor, func(), error) {
	tel, err := telemetry.Setup(ctx, telemetry.Config{
		ServiceName:    service,
		MetricInterval: 5 * time.Second,
		Stdout:         os.Stdout,
		Logger:         logger,
	})
	if err != nil {
		return nil, nil, err
	}
	mon, err := otelmem.Start(otelmem.WithMeterProvider(tel.MeterProvider), otelmem.WithLogger(logger))
	if err != nil {
		_ = tel.Shutdown(ctx)
		return nil, nil, err
	}
	stop := func() {
		tel.Close(logger) // first: its last export still carries memory
		_ = mon.Shutdown(context.Background())
	}
	logger.Info("memwatch workers example", "service", service, "export", tel.Target)
	return mon, stop, nil
}

func runService(logger *slog.Logger, rounds int) error {
	if rounds <= 0 {
		return fmt.Errorf("-rounds %d: must be positive", rounds)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mon, shutdown, err := setup(ctx, logger, "memwatch-workers")
	if err != nil {
		return err
	}
	defer shutdown()

	// The startup sequence: one trace, one span per phase.
	// Work done with the context a checkpoint returns is part of the phase
	// it runs in; this one passes none on.
	_, startup := spans.StartPhases(ctx, "startup", spans.WithMonitor(mon), spans.WithLogger(logger))
	pool := make([][]byte, 8)
	for i := range pool {
		pool[i] = work.Touch(make([]byte, 1<<20))
	}
	startup.Checkpoint("After DB pool init")
	static := buildTable(100_000)
	startup.Checkpoint("After static cache init")
	exe, err := os.Executable()
	if err != nil {
		startup.End()
		return err
	}
	startup.Checkpoint("After process pool init")
	startup.End()
	if _, err := mon.Rebaseline(); err != nil {
		logger.Warn("rebaseline", "error", err)
	}

	for round := 1; round <= rounds && ctx.Err() == nil; round++ {
		err := spans.Track(ctx, fmt.Sprintf("round %d", round), func(ctx context.Context) error {
			return errors.Join(parseReplays(ctx, exe, logger), refreshLeaderboards(ctx, logger))
		}, spans.WithAttributes(attribute.Int("round", round)))
		if err != nil {
			logger.Warn("round failed", "round", round, "error", err)
		}
	}
	keep(pool, static)
	return nil
}

// parseReplays runs one subprocess worker per replay, as a process
// pool did; each worker's spans join this trace.
func parseReplays(ctx context.Context, exe string, logger *slog.Logger) error {
	var errs []error
	for _, hash := range []string{"abc123", "def456"} {
		cmd := exec.CommandContext(ctx, exe, "-worker", "parse", "-replay", hash)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		err := spans.TrackCmd(ctx, cmd,
			spans.WithSpanName("parse replay "+hash),
			spans.WithSampleInterval(50*time.Millisecond),
			spans.WithAttributes(attribute.String("replay.hash", hash)))
		if err != nil {
			logger.Warn("replay worker failed", "replay", hash, "error", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// refreshLeaderboards refreshes each region in a pool of three goroutines;
// each job is its own span, and memwatch.operation.overlap says how many ran beside it.
func refreshLeaderboards(ctx context.Context, logger *slog.Logger) error {
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for region := range jobs {
				_ = spans.Track(ctx, "refresh leaderboard", func(ctx context.Context) error {
					table := buildTable(150_000)
					logger.InfoContext(ctx, "leaderboard refreshed", "region", region, "rows", len(table))
					return nil
				}, spans.WithAttributes(attribute.String("region", region)))
			}
		})
	}
	for _, region := range []string{"eu", "us", "kr", "cn"} {
		jobs <- region
	}
	close(jobs)
	wg.Wait()
	return nil
}

// runParseWorker is the subprocess: it continues the parent's trace and
// logs memory before and after the parse, as workers commonly do.
func runParseWorker(logger *slog.Logger, hash string) error {
	if hash == "" {
		return errors.New("-replay is empty")
	}
	ctx := spans.ContextFromEnv(context.Background())
	mon, shutdown, err := setup(ctx, logger, "memwatch-workers-parse")
	if err != nil {
		return err
	}
	defer shutdown()
	mon.LogCheckpoint(ctx, "Worker: before parse "+hash)
	var events []replayEvent
	err = spans.Track(ctx, "parse", func(context.Context) error {
		events = parseReplay(hash)
		return nil
	}, spans.WithAttributes(attribute.String("replay.hash", hash)))
	mon.LogCheckpoint(ctx, "Worker: after parse "+hash, slog.Int("events", len(events)))
	return err
}

type replayEvent struct {
	frame  int64
	player int32
	kind   string
	data   [24]byte
}

// parseReplay stands in for sc2reader: it builds a large slice of events.
func parseReplay(hash string) []replayEvent {
	events := make([]replayEvent, 0, 400_000)
	for i := range 400_000 {
		events = append(events, replayEvent{frame: int64(i), player: int32(i % 8), kind: hash})
	}
	return events
}

type row struct {
	player string
	rating int
	games  int
}

// buildTable stands in for a leaderboard table.
func buildTable(rows int) []row {
	table := make([]row, rows)
	for i := range table {
		table[i] = row{player: fmt.Sprintf("player-%07d", i), rating: 1000 + i%2500, games: i % 300}
	}
	return table
}

var sink []any

func keep(v ...any) { sink = v }
