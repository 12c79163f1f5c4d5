// Package quote renders values from outside (file contents, CSV cells,
// label values) for errors and tables: escaped, so no control byte reaches
// a terminal or a log, and short, so a bad 1 MiB file is not copied into
// every error about it.
package quote

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// maxPrefix is how many bytes of a value Short quotes: enough to see what
// a bad value looks like.
const maxPrefix = 64

// Short is s quoted with Go's escapes, cut to its first 64 bytes (at a
// character boundary) and followed by its length when longer.
func Short(s string) string {
	if len(s) <= maxPrefix {
		return strconv.Quote(s)
	}
	cut := maxPrefix
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(s[:cut]), len(s))
}

// Printable is s as it is when every character prints, else quoted with
// Go's escapes: for table cells, where quotes on every value would be
// noise.
func Printable(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
