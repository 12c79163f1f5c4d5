// Package frames decides which stack frames belong to the Go runtime's
// own machinery, so that memory and goroutines are charged to the code
// that asked for them.
package frames

import "strings"

// IsRuntime reports whether the function named fn is part of the runtime
// (runtime.mallocgc, runtime.gopark, internal/runtime/maps.newarray, ...)
// rather than code that called into it.
func IsRuntime(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/runtime/")
}
