// Package optcheck words the errors of memwatch's options one way in
// every package: "pkg: WithX(value): what is wrong", naming the option and
// the value it was given. A package's config holds an Errors, each option
// records what is wrong with its argument, and the entry point returns
// Err: every bad option at once, so one run shows them all.
package optcheck

import (
	"errors"
	"fmt"
)

// Errors collects the errors of one package's options.
type Errors struct {
	pkg  string
	errs []error
}

// For returns an empty Errors for package pkg ("otelmem", "spans",
// "leakdetect"), the prefix of every error it records.
func For(pkg string) Errors { return Errors{pkg: pkg} }

// Bad records that an option is invalid: format starts with the call as
// written, for example "WithSampleInterval(%v): must be at least %v".
func (e *Errors) Bad(format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf(e.pkg+": "+format, args...))
}

// Nil records that option was given a nil what ("logger", "function").
func (e *Errors) Nil(option, what string) {
	e.errs = append(e.errs, fmt.Errorf("%s: %s: %s is nil", e.pkg, option, what))
}

// NilOption records a nil option in the list; typ names the option's
// type as the package's documentation does ("Option").
func (e *Errors) NilOption(typ string) {
	e.errs = append(e.errs, fmt.Errorf("%s: nil %s", e.pkg, typ))
}

// Err is every error recorded, joined; nil when there is none.
func (e *Errors) Err() error { return errors.Join(e.errs...) }
