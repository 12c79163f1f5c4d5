//go:build race

package leakdetect

// raceEnabled: under the race detector the analyzer runs several times
// slower, and the heaviest tests take a sample of their cases (CI runs
// them whole without it).
const raceEnabled = true
