package main

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// The demo's GC must run every few seconds, as in a busy service, so that
// the live heap it measures follows the leak. A response kept on the
// stack left the leaking session as the only heap allocation: the GC then
// ran only when the heap doubled, and the live heap climbed in stairs held
// for most of a minute (an hour at the demo's time scale), on which the
// leak was found late or not within the 3-minute run.
func TestResponseIsHeapGarbage(t *testing.T) {
	cache := newSessionCache()
	if n := testing.AllocsPerRun(20, func() { handle(cache, 1, false) }); n < 1 {
		t.Errorf("handle without a leak: %v heap allocations, want the response (1)", n)
	}
	if cache.len() != 0 {
		t.Errorf("handle without a leak cached %d sessions", cache.len())
	}
	handle(cache, 2, true)
	if cache.len() != 1 || cache.bytes() != sessionSize {
		t.Errorf("handle with a leak: %d sessions, %d bytes; want 1, %d", cache.len(), cache.bytes(), sessionSize)
	}
}

// TestProfileDirectory: the temporary directory goes on exit unless kept;
// one the user named stays.
func TestProfileDirectory(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, keep := range []bool{false, true} {
		dir, remove, err := profileDirectory("", keep)
		if err != nil {
			t.Fatal(err)
		}
		remove(logger)
		_, err = os.Stat(dir)
		if exists := err == nil; exists != keep {
			t.Errorf("keep %v: directory exists %v after exit", keep, exists)
		}
		os.RemoveAll(dir)
	}
	mine := t.TempDir()
	dir, remove, err := profileDirectory(mine, false)
	if err != nil || dir != mine {
		t.Fatalf("%q, %v", dir, err)
	}
	remove(logger)
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("the named directory was removed: %v", err)
	}
}
