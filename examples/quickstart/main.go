package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/memwatch/memwatch/examples/internal/telemetry"
	"github.com/memwatch/memwatch/examples/internal/work"
	"github.com/memwatch/memwatch/otelmem"
)

func main() {
	duration := flag.Duration("duration", 12*time.Second, "how long to run before stopping by itself")
	period := flag.Duration("period", 3*time.Second, "interval of the periodic memory line (services log it every few minutes)")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(logger, *duration, *period); err != nil {
		logger.Error("quickstart failed", "error", err)
		os.Exit(1)
	}
}

func run(logger *slog.Logger, duration, period time.Duration) error {
	if duration <= 0 || period <= 0 {
		return fmt.Errorf("-duration %v and -period %v must be positive", duration, period)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tel, err := telemetry.Setup(ctx, telemetry.Config{
		ServiceName:    "memwatch-quickstart",
		MetricInterval: period,
		Stdout:         os.Stdout,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	defer tel.Close(logger)
	logger.Info("memwatch quickstart", "export", tel.Target, "duration", duration)

	mon, err := otelmem.Start(otelmem.WithMeterProvider(tel.MeterProvider), otelmem.WithLogger(logger))
	if err != nil {
		return err
	}
	defer func() {
		tel.Close(logger) // first: its last export still carries memory
		_ = mon.Shutdown(context.Background())
	}()

	mon.LogCheckpoint(ctx, "Startup - baseline")
	pool := newDBPool(16, 1<<20)
	mon.LogCheckpoint(ctx, "After DB pool init", slog.Int("connections", len(pool)))
	cache := newStaticCache(200_000)
	mon.LogCheckpoint(ctx, "After static cache init", slog.Int("entries", len(cache)))
	workers := newWorkerBuffers(4, 4<<20)
	mon.LogCheckpoint(ctx, "After process pool init", slog.Int("workers", len(workers)))

	// Warm-up is over: growth from here on is what deserves attention.
	if b, err := mon.Rebaseline(); err == nil {
		attrs := []any{"rss_bytes", b.RSS}
		if b.HeapLive > 0 { // 0: no GC cycle has completed yet
			attrs = append(attrs, "heap_live_bytes", b.HeapLive)
		}
		logger.Info("baseline after warm-up", attrs...)
	}

	ticker := time.NewTicker(period)
	defer ticker.Stop()
	deadline := time.After(duration)
	var sessions [][]byte
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-deadline:
			break loop
		case <-ticker.C:
			// Some traffic: a little kept, more thrown away.
			sessions = append(sessions, make([]byte, 2<<20))
			_ = strings.Repeat("x", 8<<20)
			mon.LogCheckpoint(ctx, "Periodic check", slog.Int("sessions", len(sessions)))
		}
	}

	// Force a GC first: the heap profile behind the report's allocation
	// sites is as of the last completed GC.
	gc, err := mon.ForceGC()
	if err != nil {
		logger.Warn("forced GC", "error", err)
	}
	logger.Info("forced GC", "heap_freed_bytes", gc.HeapFreed, "objects_freed", gc.ObjectsFreed,
		"rss_released_bytes", gc.RSSReleased, "duration", gc.Duration)
	report, err := mon.Report(5)
	if err != nil {
		logger.Warn("report incomplete", "error", err)
	}
	fmt.Fprint(os.Stderr, report)
	keep(pool, cache, workers, sessions)
	return nil
}

// newDBPool stands in for connection buffers.
func newDBPool(conns, bufSize int) [][]byte {
	pool := make([][]byte, conns)
	for i := range pool {
		pool[i] = work.Touch(make([]byte, bufSize))
	}
	return pool
}

// newStaticCache stands in for reference data loaded at startup.
func newStaticCache(entries int) map[string]string {
	cache := make(map[string]string, entries)
	for i := range entries {
		cache[fmt.Sprintf("player-%07d", i)] = fmt.Sprintf("rating=%d;region=%d", 1000+i%2000, i%8)
	}
	return cache
}

// newWorkerBuffers stands in for a process pool: per-worker scratch.
func newWorkerBuffers(workers, size int) [][]byte {
	return newDBPool(workers, size)
}

var sink []any

// keep holds the data alive until the report so it shows in it.
func keep(v ...any) { sink = v }
