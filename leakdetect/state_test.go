package leakdetect

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

var (
	_ encoding.BinaryMarshaler   = (*Analyzer)(nil)
	_ encoding.BinaryUnmarshaler = (*Analyzer)(nil)
)

// stateSuites are the scorecard's series: every case of the catalog, its
// realistic variants and the real suite at every sampling, and every
// tenth period of the sawtooth sweep, one seed each.
func stateSuites() []scenario.Case {
	var out []scenario.Case
	var realistic []scenario.Case
	for _, c := range scenario.Catalog() {
		for _, r := range scenario.Realisms() {
			realistic = append(realistic, r.Apply(c))
		}
	}
	for _, cs := range [][]scenario.Case{scenario.Catalog(), realistic, scenario.RealCatalog()} {
		for _, c := range cs {
			for _, sm := range scenario.Samplings() {
				out = append(out, sm.Apply(c))
			}
		}
	}
	for i, c := range scenario.SawtoothSweep(5*time.Second, 24*time.Hour) {
		if i%10 == 0 {
			out = append(out, c)
		}
	}
	return out
}

// cutPoints chooses where a run is saved and restored: at random, at
// bucket edges (the sample that closes a bucket, and one a few samples on,
// in the middle of the evaluation steps), in the middle of warm-up, and
// where samples off the time line are held.
func cutPoints(samples []Sample, rng *rand.Rand) map[int]bool {
	cuts := map[int]bool{}
	a, _ := NewAnalyzer()
	var edges []int
	for i, s := range samples {
		closes := a.closes
		if a.jump.n > 0 {
			cuts[i] = true // held samples off the time line
		}
		a.Observe(s)
		if a.closes != closes {
			edges = append(edges, i)
		}
		if s.Time.Sub(samples[0].Time) < 10*time.Minute {
			cuts[i] = i%7 == 3 // mid-warm-up
		}
	}
	for range 3 {
		cuts[rng.IntN(len(samples))] = true
	}
	for _, f := range []float64{0.2, 0.5, 0.8} {
		if len(edges) > 0 {
			e := edges[int(f*float64(len(edges)-1))]
			cuts[e] = true
			cuts[min(e+3, len(samples)-1)] = true
		}
	}
	return cuts
}

// runWithCuts runs samples through an analyzer that is saved and
// restored into a fresh one at each cut.
func runWithCuts(t *testing.T, samples []Sample, cuts map[int]bool) []Finding {
	t.Helper()
	a, _ := NewAnalyzer()
	var out []Finding
	for i, s := range samples {
		if cuts[i] {
			b, err := a.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			a, _ = NewAnalyzer()
			if err := a.UnmarshalBinary(b); err != nil {
				t.Fatalf("sample %d: %v", i, err)
			}
		}
		out = append(out, a.Observe(s)...)
	}
	return out
}

// TestSaveRestoreIsExact: for every series of every scorecard suite, a run
// saved and restored at many points (random, bucket edges, mid-warm-up,
// mid-restart) gives exactly the findings of the run left alone.
func TestSaveRestoreIsExact(t *testing.T) {
	cases := stateSuites()
	// Two halves at once: the suites take minutes on one core.
	for half := range 2 {
		t.Run(fmt.Sprint("half", half), func(t *testing.T) {
			t.Parallel()
			for ci, c := range cases {
				if ci%2 != half || (testing.Short() || raceEnabled) && ci%15 != 0 {
					continue // CI runs every case without the race detector
				}
				raw := c.Samples(uint64(ci%5 + 1))
				samples := make([]Sample, len(raw))
				for i, s := range raw {
					samples[i] = Sample(s)
				}
				want := runWithCuts(t, samples, nil)
				got := runWithCuts(t, samples, cutPoints(samples, rand.New(rand.NewPCG(uint64(ci), 2))))
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: restored runs found %d findings, the run left alone %d:\n got %+v\nwant %+v", c.Name, len(got), len(want), got, want)
				}
			}
		})
	}
}

// TestSaveRestoreAcrossARestart: a clock that jumps a day ahead (the
// series starts again after three samples on the new time line) and back,
// saved while the jump is held and after: findings as the run left alone.
func TestSaveRestoreAcrossARestart(t *testing.T) {
	var samples []Sample
	for i, s := range heapLeak(60 * scenario.MB).Samples(3) {
		x := Sample(s)
		if i >= 2000 {
			x.Time = x.Time.Add(30 * time.Hour)
		}
		samples = append(samples, x)
	}
	samples = append(samples[:1000], append([]Sample{{Time: samples[999].Time.Add(-3 * time.Hour), HeapLive: 1}}, samples[1000:]...)...)
	want := runWithCuts(t, samples, nil)
	cuts := map[int]bool{1000: true, 1001: true, 2001: true, 2002: true, 2003: true, 2004: true}
	if got := runWithCuts(t, samples, cuts); !reflect.DeepEqual(got, want) {
		t.Errorf("restored across a restart: %+v\nwant %+v", got, want)
	}
}

// savedAfter is the state of an analyzer after n samples of a leak.
func savedAfter(t *testing.T, n int, opts ...AnalyzerOption) []byte {
	t.Helper()
	a, err := NewAnalyzer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range heapLeak(60 * scenario.MB).Samples(1)[:n] {
		a.Observe(Sample(s))
	}
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRestoreRefusesWhatIsNotItsState: other options, another version,
// truncation, corruption, another format: an error that says which, and
// the analyzer left as it was.
func TestRestoreRefusesWhatIsNotItsState(t *testing.T) {
	good := savedAfter(t, 1500)
	other := savedAfter(t, 1500, WithSignificance(7))
	version := bytes.Clone(good)
	version[4] = 9
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x10
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than any analyzer state"},
		{"not a state", []byte("time,rss\n1,2\n3,4\n"), "not an analyzer state"},
		{"other options", other, "other options"},
		{"another version", version, "version 9"},
		{"truncated", good[:len(good)-100], "checksum mismatch"},
		{"corrupted", flipped, "checksum mismatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := NewAnalyzer()
			a.Observe(Sample{Time: scenario.Start, HeapLive: 5})
			before, _ := a.MarshalBinary()
			err := a.UnmarshalBinary(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("UnmarshalBinary: %v, want an error saying %q", err, tt.want)
			}
			if after, _ := a.MarshalBinary(); !bytes.Equal(before, after) {
				t.Error("a refused state changed the analyzer")
			}
		})
	}
	var zero Analyzer
	if err := zero.UnmarshalBinary(good); err == nil {
		t.Error("a zero Analyzer took a state")
	}
}

// FuzzUnmarshalBinary: no input panics, and one that is taken gives an
// analyzer that observes without panicking and saves to the same bytes.
func FuzzUnmarshalBinary(f *testing.F) {
	for _, n := range []int{0, 10, 500, 1500} {
		a, _ := NewAnalyzer()
		for _, s := range heapLeak(60 * scenario.MB).Samples(1)[:n] {
			a.Observe(Sample(s))
		}
		b, _ := a.MarshalBinary()
		f.Add(b)
		f.Add(b[stateHeader : len(b)-stateTrailer]) // a body, for sealed
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, _ := NewAnalyzer()
		if err := a.UnmarshalBinary(data); err != nil {
			// Past the checksum too: the same bytes as a state with a
			// valid header and checksum.
			if err := a.UnmarshalBinary(sealed(a, data)); err != nil {
				return
			}
			data = sealed(a, data)
		}
		again, err := a.MarshalBinary()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("a taken state does not save back to itself (%v)", err)
		}
		for i := range 400 {
			a.Observe(Sample{Time: scenario.Start.Add(time.Duration(i) * 10 * time.Second), HeapLive: 200e6, RSS: 300e6, Goroutines: 20})
		}
	})
}

// sealed is body behind a's header and before its checksum.
func sealed(a *Analyzer, body []byte) []byte {
	b := append([]byte(stateMagic), stateVersion)
	b = binary.LittleEndian.AppendUint64(b, a.cfg.fingerprint())
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// TestStateLength: the saved state after 48 hours of 10-s samples is at
// most 8 KB for a signal alone and 24 KB for the three, the bounds a
// fleet's analyzers are held to (-v prints them for BENCHMARKS.md). The
// history it holds is bounded, so it does not grow after.
func TestStateLength(t *testing.T) {
	for _, tt := range signalSets {
		a, _ := NewAnalyzer()
		for _, s := range series48h() {
			a.Observe(tt.keep(s))
		}
		b, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("saved state after 48 h of %s at 10 s: %d bytes", tt.name, len(b))
		if len(b) > tt.most {
			t.Errorf("%s: saved state %d bytes, want at most %d", tt.name, len(b), tt.most)
		}
	}
}

// signalSets are the signals an analyzer may watch: the live heap or RSS
// alone (a process watched from outside has no heap), or all three; most
// is the saved state's bound after 48 hours.
var signalSets = []struct {
	name string
	keep func(Sample) Sample
	most int
}{
	{"heap", func(s Sample) Sample { s.RSS, s.Goroutines = 0, 0; return s }, 8 << 10},
	{"rss", func(s Sample) Sample { s.HeapLive, s.Goroutines = 0, 0; return s }, 8 << 10},
	{"3-signals", func(s Sample) Sample { return s }, 24 << 10},
}
