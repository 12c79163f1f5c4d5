package bytefmt

import "testing"

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		n            int64
		bytes, delta string
	}{
		{0, "0.00 MiB", "+0.00 MiB"},
		{1 << 20, "1.00 MiB", "+1.00 MiB"},
		{-3 << 19, "-1.50 MiB", "-1.50 MiB"},
		{5 << 30, "5120.00 MiB", "+5120.00 MiB"},
	} {
		if got := Bytes(c.n); got != c.bytes {
			t.Errorf("Bytes(%d) = %q, want %q", c.n, got, c.bytes)
		}
		if got := Delta(c.n); got != c.delta {
			t.Errorf("Delta(%d) = %q, want %q", c.n, got, c.delta)
		}
	}
}
