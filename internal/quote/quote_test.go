package quote

import (
	"strings"
	"testing"
)

func TestShort(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"max", `"max"`},
		{"\x1b[2J", `"\x1b[2J"`},
		{strings.Repeat("a", 64), `"` + strings.Repeat("a", 64) + `"`},
		{strings.Repeat("a", 1<<20), `"` + strings.Repeat("a", 64) + `"... (1048576 bytes)`},
		// A cut inside a character moves back to its start.
		{strings.Repeat("a", 63) + "é" + "b", `"` + strings.Repeat("a", 63) + `"... (66 bytes)`},
	} {
		if got := Short(tt.in); got != tt.want {
			t.Errorf("Short(%.20q...) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"api-1:8080", "api-1:8080"},
		{"café eu", "café eu"},
		{"a\x1b]0;owned\x07", `"a\x1b]0;owned\a"`},
		{"a\u009bb", `"a\u009bb"`},
		{"a\tb", `"a\tb"`},
		{"\xff", `"\xff"`},
	} {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
