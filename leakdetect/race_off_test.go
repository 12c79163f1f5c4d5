//go:build !race

package leakdetect

const raceEnabled = false
