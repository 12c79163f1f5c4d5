package otelmem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/pprof"
	"strings"

	"github.com/memwatch/memwatch/internal/bytefmt"
	"github.com/memwatch/memwatch/internal/memread"
)

const reportRule = "============================================================\n"

// WriteReport writes a text report for a person: current RSS, virtual
// memory, utilization of the limit, Go heap, baseline and delta, and the
// topN allocation sites (none when topN is 0). Numbers are rendered in MiB; the API itself returns
// bytes.
func (m *Monitor) WriteReport(w io.Writer, topN int) error {
	if topN < 0 {
		return fmt.Errorf("otelmem: WriteReport: topN %d must not be negative", topN)
	}
	s, readErr := m.Snapshot()
	if errors.Is(readErr, ErrShutdown) {
		return readErr
	}
	sites, siteErr := m.TopAllocations(topN)

	var b strings.Builder
	b.WriteString(reportRule + "MEMORY USAGE REPORT\n" + reportRule)
	fmt.Fprintf(&b, "Time:            %s\n", s.Time.Format("2006-01-02T15:04:05Z07:00"))
	fmt.Fprintf(&b, "Current RSS:     %s\n", bytefmt.Bytes(int64(s.RSS)))
	fmt.Fprintf(&b, "Virtual Memory:  %s\n", bytefmt.Bytes(int64(s.Virtual)))
	if s.Limit > 0 {
		fmt.Fprintf(&b, "Utilization:     %.2f%% of %s (%s limit)\n", 100*s.Utilization, bytefmt.Bytes(int64(s.Limit)), s.LimitSource)
	}
	fmt.Fprintf(&b, "Live heap:       %s (%d objects, next GC at %s)\n", bytefmt.Bytes(int64(s.HeapLive)), s.HeapObjects, bytefmt.Bytes(int64(s.HeapGoal)))
	fmt.Fprintf(&b, "Goroutines:      %d (stacks %s)\n", s.Goroutines, bytefmt.Bytes(int64(s.Stacks)))
	fmt.Fprintf(&b, "GC cycles:       %d\n", s.GCCycles)
	fmt.Fprintf(&b, "Baseline:        %s (at %s)\n", bytefmt.Bytes(int64(s.Baseline.RSS)), s.Baseline.Time.Format("15:04:05"))
	fmt.Fprintf(&b, "Delta:           %s (live heap %s)\n", bytefmt.Delta(s.Delta), bytefmt.Delta(s.HeapLiveDelta))
	if topN > 0 {
		fmt.Fprintf(&b, "\nTop %d Allocations (in use):\n", topN)
		b.WriteString(strings.Repeat("-", len(reportRule)-1) + "\n")
		for _, a := range sites {
			fmt.Fprintf(&b, "  %10s: %s\n", bytefmt.Bytes(a.InUseBytes), a)
		}
		if len(sites) == 0 && siteErr == nil {
			b.WriteString("  (no sampled allocations)\n")
		}
	}
	b.WriteString(reportRule)
	if readErr != nil || siteErr != nil {
		fmt.Fprintf(&b, "Errors: %v\n", errors.Join(readErr, siteErr))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Report returns WriteReport's text.
func (m *Monitor) Report(topN int) (string, error) {
	var b strings.Builder
	err := m.WriteReport(&b, topN)
	return b.String(), err
}

// WriteHeapProfile writes the runtime's heap profile in pprof's protobuf
// format, for `go tool pprof` (and `-diff_base` between two of them). Its
// in-use numbers are as of the last completed GC.
func (m *Monitor) WriteHeapProfile(w io.Writer) error {
	p := pprof.Lookup("heap")
	if p == nil {
		return errors.New("otelmem: the runtime has no heap profile")
	}
	if err := p.WriteTo(w, 0); err != nil {
		return fmt.Errorf("otelmem: write heap profile: %w", err)
	}
	return nil
}

// LogCheckpoint logs the memory at a labelled point of the program (say
// "After DB pool init") as one structured line through
// the monitor's slog.Logger, and returns the snapshot it logged. attrs are
// added to the line.
func (m *Monitor) LogCheckpoint(ctx context.Context, label string, attrs ...slog.Attr) (Snapshot, error) {
	s, err := m.Snapshot()
	if errors.Is(err, ErrShutdown) {
		return s, err
	}
	memread.Checkpoint{
		Label: label, RSS: s.RSS, HeapLive: s.HeapLive,
		HasBaseline: true, Delta: s.Delta, HeapLiveDelta: s.HeapLiveDelta,
		Utilization: s.Utilization, Goroutines: s.Goroutines, Err: err,
	}.Log(ctx, m.cfg.logger, attrs...)
	return s, err
}
