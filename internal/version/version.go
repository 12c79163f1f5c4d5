// Package version holds memwatch's version, the one place the packages'
// Version constants (their instrumentation scope versions) take it from.
package version

// Version is the version of memwatch.
const Version = "0.1.0"
