//go:build race

package spans

// raceEnabled: the race detector's shadow memory roughly doubles the RSS a
// test's writes add.
const raceEnabled = true
