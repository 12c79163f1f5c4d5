//go:build race

package otelmem

// raceEnabled: the race detector keeps shadow memory for every heap page a
// test touches, so resident memory rises by a multiple of what it allocated.
const raceEnabled = true
