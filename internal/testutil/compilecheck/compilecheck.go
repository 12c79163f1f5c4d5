// Package compilecheck lets a test prove that a misuse of an API does not
// compile: it builds a package kept under testdata and returns the
// compiler's errors.
package compilecheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Errors builds the package in dir (relative to the test's package) and
// returns the compiler's output. It fails the test when the build
// succeeds.
func Errors(t *testing.T, dir string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a package")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goTool, "build", "-o", "/dev/null", "./"+dir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("%s compiled; its misuses must not", dir)
	}
	if _, ok := err.(*exec.ExitError); !ok {
		t.Fatalf("go build %s: %v", dir, err)
	}
	return string(out)
}

// Want checks that the compiler reported an error on every line of file
// marked with a "// WANT" comment, and on no other line.
func Want(t *testing.T, dir string) {
	t.Helper()
	out := Errors(t, dir)
	src, err := os.ReadFile(filepath.Join(dir, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]bool{}
	for i, line := range strings.Split(string(src), "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), "// WANT") {
			want[i+1] = true
		}
	}
	got := map[int]bool{}
	for _, m := range errLine.FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		got[n] = true
	}
	for n := range want {
		if !got[n] {
			t.Errorf("%s/main.go:%d compiled; it must not", dir, n)
		}
	}
	for n := range got {
		if !want[n] {
			t.Errorf("%s/main.go:%d does not compile:\n%s", dir, n, out)
		}
	}
}

var errLine = regexp.MustCompile(`main\.go:(\d+):\d+: `)
