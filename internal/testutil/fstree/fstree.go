// Package fstree writes small file trees for tests: a fake / with the
// /proc and /sys/fs/cgroup files memwatch reads.
package fstree

import (
	"os"
	"path/filepath"
	"testing"
)

// Write creates a new directory for the test, writes each file (a path
// relative to it, with its content) and returns the directory.
func Write(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}
