// Package bytefmt renders byte counts for people, the same way in every
// memwatch line, report and attribute that holds text.
package bytefmt

import "fmt"

// Bytes renders n bytes in MiB with two decimals.
func Bytes(n int64) string {
	return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
}

// Delta renders a signed byte count like Bytes, always with its sign.
func Delta(n int64) string {
	return fmt.Sprintf("%+.2f MiB", float64(n)/(1<<20))
}

// Amount renders a signed change of one of leakdetect's signals: the
// goroutine count (signal "goroutines") as "+12 goroutines", the others
// as bytes, like Delta.
func Amount(signal string, n int64) string {
	if signal == "goroutines" {
		return fmt.Sprintf("%+d goroutines", n)
	}
	return Delta(n)
}
