package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/memwatch/memwatch/examples/internal/telemetry"
	"github.com/memwatch/memwatch/leakdetect"
	"github.com/memwatch/memwatch/otelmem"
)

func main() {
	duration := flag.Duration("duration", 3*time.Minute, "stop after this long even without a finding")
	keepRunning := flag.Bool("keep-running", false, "keep running after the first finding until -duration (for dashboards and alerts)")
	profiles := flag.String("profile-dir", "", "write baseline and finding heap profiles here, and keep them (default: a temporary directory, removed on exit)")
	keepProfiles := flag.Bool("keep-profiles", false, "keep the temporary profile directory on exit")
	leak := flag.Bool("leak", true, "leak once warm; -leak=false runs the same service without the bug")
	logEvents := flag.Bool("log-events", false, "emit the finding's events as OpenTelemetry log records instead of span events")
	maxLeak := flag.Int("max-leak-mib", 512, "stop leaking once the cache holds this many MiB, so a long demo cannot exhaust the host")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *maxLeak <= 0 {
		logger.Error("leak example failed", "error", fmt.Sprintf("-max-leak-mib %d: must be positive", *maxLeak))
		os.Exit(1)
	}
	if err := run(logger, *duration, *keepRunning, *leak, *logEvents, *maxLeak<<20, *profiles, *keepProfiles); err != nil {
		logger.Error("leak example failed", "error", err)
		os.Exit(1)
	}
}

func run(logger *slog.Logger, duration time.Duration, keepRunning, leak, logEvents bool, maxLeak int, profileDir string, keepProfiles bool) error {
	if duration <= 0 {
		return fmt.Errorf("-duration %v: must be positive", duration)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()

	tel, err := telemetry.Setup(ctx, telemetry.Config{
		ServiceName:    "memwatch-leak",
		MetricInterval: 5 * time.Second,
		Stdout:         os.Stdout,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	defer tel.Close(logger)
	profileDir, removeProfiles, err := profileDirectory(profileDir, keepProfiles)
	if err != nil {
		return err
	}
	defer removeProfiles(logger)
	logger.Info("memwatch leak example", "export", tel.Target, "profiles", profileDir)

	mon, err := otelmem.Start(otelmem.WithMeterProvider(tel.MeterProvider), otelmem.WithLogger(logger))
	if err != nil {
		return err
	}
	defer mon.Shutdown(context.Background()) // after the providers' last export (below)

	found := make(chan leakdetect.Finding, 1)
	opts := []leakdetect.Option{
		leakdetect.WithMonitor(mon),
		leakdetect.WithMeterProvider(tel.MeterProvider),
		leakdetect.WithTracerProvider(tel.TracerProvider),
		leakdetect.WithLoggerProvider(tel.LoggerProvider),
		leakdetect.WithLogger(logger),
		// Demo scale: a second stands for a minute, so the decision rule's
		// 30-minute windows take 30 seconds and its 20-minute warm-up 20.
		leakdetect.WithTimeScale(60),
		leakdetect.WithInterval(250 * time.Millisecond),
		leakdetect.WithReportInterval(5 * time.Second),
		leakdetect.WithTopN(5),
		leakdetect.WithProfileDir(profileDir),
		leakdetect.WithOnFinding(func(f leakdetect.Finding) {
			select {
			case found <- f:
			default:
			}
		}),
	}
	if logEvents {
		opts = append(opts, leakdetect.WithEventsAsLogs())
	}
	det, err := leakdetect.Start(opts...)
	if err != nil {
		return err
	}
	defer det.Shutdown(context.Background())
	defer tel.Close(logger) // first: its last export still carries memory

	cache := newSessionCache()
	requests := time.NewTicker(20 * time.Millisecond)
	defer requests.Stop()
	warmup := time.Now().Add(25 * time.Second)
	var stopAt <-chan time.Time
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			logger.Info("stopping", "requests", n, "cached_sessions", cache.len())
			return nil
		case f := <-found:
			logger.Info("leak caught", "signal", f.Signal, "reason", f.Reason, "growth", f.Growth, "after", f.Window)
			if !keepRunning {
				stopAt = time.After(3 * time.Second)
			}
		case <-stopAt:
			logger.Info("stopping after the finding", "requests", n, "cached_sessions", cache.len())
			return nil
		case <-requests.C:
			handle(cache, n, leak && time.Now().After(warmup) && cache.bytes() < maxLeak)
		}
	}
}

// profileDirectory is dir, or a new temporary directory when dir is "";
// remove deletes that temporary one (unless keep) and says so. A
// directory the user named is theirs: kept.
func profileDirectory(dir string, keep bool) (string, func(*slog.Logger), error) {
	if dir != "" {
		return dir, func(*slog.Logger) {}, nil
	}
	tmp, err := os.MkdirTemp("", "memwatch-leak-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func(logger *slog.Logger) {
		if keep {
			logger.Info("heap profiles kept", "dir", tmp)
			return
		}
		if err := os.RemoveAll(tmp); err != nil {
			logger.Warn("remove the profile directory", "dir", tmp, "error", err)
			return
		}
		logger.Info("heap profiles removed (-keep-profiles keeps them)", "dir", tmp)
	}, nil
}

const sessionSize = 16 << 10

// sessionCache is the bug: it stores every session and never evicts.
type sessionCache struct {
	sessions map[int][]byte
}

func newSessionCache() *sessionCache { return &sessionCache{sessions: make(map[int][]byte)} }

// store keeps a session forever.
func (c *sessionCache) store(id int, data []byte) { c.sessions[id] = data }

func (c *sessionCache) len() int { return len(c.sessions) }

func (c *sessionCache) bytes() int { return len(c.sessions) * sessionSize }

// wire is where responses are written: like a connection, it makes them
// heap garbage the GC takes back.
var wire io.Writer = io.Discard

// handle serves one request: a 256 KiB response (13 MB of garbage a
// second, so the GC runs every few seconds and the live heap it measures
// follows the leak closely, as in a busy service), and, once the service
// is warm, a 16 KiB session the cache keeps (48 MB a minute).
func handle(cache *sessionCache, id int, leaking bool) {
	response := make([]byte, 256<<10)
	for i := range response {
		response[i] = byte(id)
	}
	wire.Write(response)
	if leaking {
		session := make([]byte, sessionSize)
		copy(session, response)
		cache.store(id, session)
	}
}
