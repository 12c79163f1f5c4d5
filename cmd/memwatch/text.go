package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The command's text for people: byte counts in MiB, as the library's own
// log lines print them, and strings from outside (file names, label values,
// arguments) shown so that they cannot write control sequences to a
// terminal.

// mib renders n bytes in MiB with two decimals.
func mib(n uint64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

// amount renders a signed change of a leakdetect signal: a goroutine
// count as "+12 goroutines", bytes as "+1.50 MiB".
func amount(signal string, n int64) string {
	if signal == "goroutines" {
		return fmt.Sprintf("%+d goroutines", n)
	}
	return fmt.Sprintf("%+.2f MiB", float64(n)/(1<<20))
}

// shown is s as it is when every character prints, else Go-quoted.
func shown(s string) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// shortQuoted is s Go-quoted, cut to its first 64 bytes (at a character's
// start) with its length when longer: bad input named in an error, never
// a whole file.
func shortQuoted(s string) string {
	const most = 64
	if len(s) <= most {
		return strconv.Quote(s)
	}
	end := most
	for !utf8.RuneStart(s[end]) {
		end--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(s[:end]), len(s))
}
