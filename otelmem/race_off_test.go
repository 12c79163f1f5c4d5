//go:build !race

package otelmem

const raceEnabled = false
