package leakdetect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"math"
	"time"
)

// The saved state of an Analyzer: a header (magic, format version, a
// fingerprint of the options), the state, and a CRC-32 of all before it.
// Restoring it into an analyzer made with the same options gives one that
// decides exactly as the saved one would have; anything else is an error
// that says what is wrong.
const (
	stateMagic   = "MWA\x00"
	stateVersion = 3
	stateHeader  = len(stateMagic) + 1 + 8
	stateTrailer = 4
)

// MarshalBinary saves the analyzer's state (encoding.BinaryMarshaler):
// its history, noise estimates, suspicions and threshold baseline. The
// length grows with the history held, up to a bound set by the options.
func (a *Analyzer) MarshalBinary() ([]byte, error) {
	if a.signals[0].history == 0 {
		return nil, errors.New("leakdetect: MarshalBinary: the analyzer was not made by NewAnalyzer")
	}
	for i := range a.signals {
		a.settleRate(i) // the state holds the gauge's value, not how to fit it
	}
	var e stateEncoder
	e.b = append(e.b, stateMagic...)
	e.b = append(e.b, stateVersion)
	e.b = binary.LittleEndian.AppendUint64(e.b, a.cfg.fingerprint())
	a.encode(&e)
	return binary.LittleEndian.AppendUint32(e.b, crc32.ChecksumIEEE(e.b)), nil
}

// UnmarshalBinary restores a state MarshalBinary saved
// (encoding.BinaryUnmarshaler) into an analyzer made by NewAnalyzer with
// the same options. A state of other options, of another format version,
// truncated or corrupted is an error naming what is wrong, and leaves the
// analyzer as it was.
func (a *Analyzer) UnmarshalBinary(data []byte) error {
	if a.signals[0].history == 0 {
		return errors.New("leakdetect: UnmarshalBinary: the analyzer was not made by NewAnalyzer")
	}
	if err := checkState(data, a.cfg.fingerprint()); err != nil {
		return fmt.Errorf("leakdetect: UnmarshalBinary: %w", err)
	}
	d := stateDecoder{b: data[stateHeader : len(data)-stateTrailer], off: stateHeader}
	fresh := newAnalyzer(a.cfg)
	fresh.decode(&d)
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes left over after the state", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("leakdetect: UnmarshalBinary: %w", d.err)
	}
	*a = *fresh
	return nil
}

// checkState checks the header and the checksum.
func checkState(data []byte, fingerprint uint64) error {
	if len(data) < stateHeader+stateTrailer {
		return fmt.Errorf("%d bytes, shorter than any analyzer state (%d)", len(data), stateHeader+stateTrailer)
	}
	if string(data[:len(stateMagic)]) != stateMagic {
		return fmt.Errorf("not an analyzer state: it starts %q, want %q", data[:len(stateMagic)], stateMagic)
	}
	if v := data[len(stateMagic)]; v != stateVersion {
		return fmt.Errorf("state format version %d; this analyzer reads version %d", v, stateVersion)
	}
	body, sum := data[:len(data)-stateTrailer], binary.LittleEndian.Uint32(data[len(data)-stateTrailer:])
	if crc32.ChecksumIEEE(body) != sum {
		return errors.New("checksum mismatch: the state is truncated or corrupted")
	}
	if got := binary.LittleEndian.Uint64(data[len(stateMagic)+1:]); got != fingerprint {
		return errors.New("the state was saved by an analyzer with other options: restore it into one made with the same options")
	}
	return nil
}

// fingerprint identifies the options an analyzer was made with.
func (c *analyzerConfig) fingerprint() uint64 {
	var e stateEncoder
	e.duration(c.bucket)
	e.uint(uint64(len(c.windows)))
	for _, w := range c.windows {
		e.duration(w)
	}
	e.uint(uint64(c.maxPoints))
	for i := range signalCount {
		e.duration(c.minWindow[i])
		e.float(c.minRate[i])
		e.float(c.minGrowth[i])
	}
	e.float(c.minRelRate)
	e.float(c.minRelGrowth)
	e.float(c.significance)
	e.duration(c.steadyWindow)
	e.float(c.halfFraction)
	e.duration(c.cooldown)
	e.duration(c.clearAfter)
	e.int(c.threshold)
	e.duration(c.warmup)
	e.duration(c.levelWindow)
	h := fnv.New64a()
	h.Write(e.b)
	return h.Sum64()
}

func (a *Analyzer) encode(e *stateEncoder) {
	e.float(a.limit)
	e.bool(a.started)
	e.time(a.start)
	e.time(a.last)
	e.uint(uint64(a.jump.n))
	for _, s := range a.jump.samples[:a.jump.n] {
		e.time(s.Time)
		e.uint(s.HeapLive)
		e.uint(s.RSS)
		e.int(s.Goroutines)
		e.uint(s.Limit)
	}
	for i := range a.signals {
		a.signals[i].encode(e)
	}
	th := &a.thresh
	e.bool(th.baselineSet)
	e.float(th.rssBaseline)
	e.float(th.heapBaseline)
	e.float(th.baselineAt)
	e.bool(th.fired)
	e.float(th.lastFired)
	e.uint(uint64(a.closes))
	e.uint(uint64(a.nextStep))
}

func (a *Analyzer) decode(d *stateDecoder) {
	a.limit = d.float()
	a.started = d.bool()
	a.start = d.time()
	a.last = d.time()
	a.jump.n = d.count("samples off the time line", jumpConfirm-1)
	for k := range a.jump.n {
		s := &a.jump.samples[k]
		s.Time = d.time()
		s.HeapLive = d.uint()
		s.RSS = d.uint()
		s.Goroutines = d.int()
		s.Limit = d.uint()
	}
	for i := range a.signals {
		a.signals[i].decode(d, signalNames[i])
	}
	th := &a.thresh
	th.baselineSet = d.bool()
	th.rssBaseline = d.float()
	th.heapBaseline = d.float()
	th.baselineAt = d.float()
	th.fired = d.bool()
	th.lastFired = d.float()
	a.closes = d.count("buckets closed", math.MaxInt32)
	a.nextStep = d.count("next evaluation step", stepCount)
}

// encode writes the series' state; the closed buckets newest last, so a
// restored ring starts at 0 and reads the same by age.
func (s *series) encode(e *stateEncoder) {
	e.float(s.openIdx)
	e.floats(s.openVals)
	e.floats(s.prevVals)
	e.bool(s.hasOpen)
	e.uint(uint64(s.openNew))
	e.float(s.last)
	e.float(s.width)
	e.bool(s.pooling)
	e.uint(uint64(s.count))
	for k := s.count - 1; k >= 0; k-- {
		r := s.ring(k)
		e.int(int64(s.idx[r]))
		e.float32(s.levels[r])
		if s.owns != nil {
			e.float32(s.owns[r])
		}
		e.b = append(e.b, s.reads[r])
	}
	u := &s.units
	e.uint(uint64(u.count))
	for k := u.count - 1; k >= 0; k-- {
		r := u.ring(k)
		e.int(int64(u.idx[r]))
		e.float32(u.levels[r])
		if u.owns != nil {
			e.float32(u.owns[r])
		}
		e.uint(uint64(u.counts[r]))
		e.uint(uint64(u.reads[r]))
	}
	noise := s.noise
	if noise == nil {
		noise = new(noiseScales) // a signal not observed: its noise as made
	}
	noise.encode(e)
	if s.pooling {
		s.ownNoise.encode(e)
	}
	e.bool(s.suspected)
	e.bool(s.leakSeen)
	e.float(s.lastActive)
	e.bool(s.hasFinding)
	e.float(s.lastFinding)
	e.float(s.rate)
	e.float(s.leakRate)
}

func (s *series) decode(d *stateDecoder, name string) {
	s.openIdx = d.float()
	s.openVals = d.floats(s.openVals[:0], name+" open bucket samples", maxBucketSamples)
	s.prevVals = d.floats(s.prevVals[:0], name+" samples of the buckets before", sawtoothSamples)
	s.hasOpen = d.bool()
	s.openNew = d.count(name+" open bucket readings", math.MaxInt32)
	s.last = d.float()
	s.width = d.float()
	if s.pooling = d.bool(); s.pooling && !s.sawtooth {
		d.fail("%s pools buckets, which only rss does", name)
		return
	}
	s.count = d.count(name+" closed buckets", s.history)
	if s.count > 0 || s.hasOpen || len(s.openVals) > 0 || len(s.prevVals) > 0 || s.pooling {
		s.alloc()
	}
	if s.pooling {
		s.owns = make([]float32, len(s.levels))
	}
	for k := range s.count {
		idx := d.int()
		if idx < math.MinInt32 || idx > math.MaxInt32 {
			d.fail("%s bucket index %d beyond 32 bits", name, idx)
		}
		s.idx[k], s.levels[k] = int32(idx), d.float32()
		if s.owns != nil {
			s.owns[k] = d.float32()
		}
		s.reads[k] = d.byte()
	}
	s.head = s.count % s.history
	nu := d.count(name+" units", s.unitsCap)
	if nu > 0 && s.levels == nil {
		s.alloc()
	}
	u := &s.units
	for k := range nu {
		idx := d.int()
		if idx < math.MinInt32 || idx > math.MaxInt32 {
			d.fail("%s unit index %d beyond 32 bits", name, idx)
		}
		u.idx[k], u.levels[k] = int32(idx), d.float32()
		if u.owns != nil {
			u.owns[k] = d.float32()
		}
		c := d.count(name+" buckets in a unit", unitBuckets)
		u.counts[k] = uint8(c)
		u.reads[k] = uint16(d.count(name+" readings in a unit", math.MaxUint16))
	}
	if nu > 0 {
		u.count, u.head = nu, nu%len(u.idx)
	}
	var noise noiseScales
	noise.decode(d, name)
	if s.levels == nil && noise != (noiseScales{}) {
		s.alloc() // a noise measured with no buckets held: keep it
	}
	if s.noise != nil {
		*s.noise = noise
		s.noise.rebuildHour(s, (*series).level)
	}
	if s.pooling {
		s.ownNoise = new(noiseScales)
		s.ownNoise.decode(d, name)
		s.ownNoise.rebuildHour(s, (*series).own)
	}
	s.suspected = d.bool()
	s.leakSeen = d.bool()
	s.lastActive = d.float()
	s.hasFinding = d.bool()
	s.lastFinding = d.float()
	s.rate = d.float()
	s.leakRate = d.float()
}

// encode writes each ring's values oldest first, so a restored ring
// starts at 0 and reads the same in order.
func (n *noiseScales) encode(e *stateEncoder) {
	for i := range n.rings {
		r := &n.rings[i]
		e.uint(uint64(r.count))
		first := (r.head - r.count + noiseRingCap) % noiseRingCap
		for k := range r.count {
			e.float32(r.vals[(first+k)%noiseRingCap])
		}
	}
	e.uint(uint64(n.closed))
	for _, v := range n.clipped {
		e.float32(v)
	}
	e.bool(n.holding)
}

func (n *noiseScales) decode(d *stateDecoder, name string) {
	for i := range n.rings {
		r := &n.rings[i]
		r.count = d.count(name+" noise blocks", noiseRingCap)
		for k := range r.count {
			r.vals[k] = d.float32()
		}
		r.head = r.count % noiseRingCap
	}
	n.closed = d.count(name+" noise buckets", math.MaxInt32)
	for i := range n.clipped {
		n.clipped[i] = d.float32()
	}
	n.holding = d.bool()
	// The variances are the blocks': refreshed from them when next read,
	// they are what the saved analyzer held (their sums' order is fixed by
	// the blocks' count alone).
	for l := range n.rings {
		if n.rings[l].count > 0 {
			n.dirty |= 1 << l
		}
	}
}

// stateEncoder appends values: unsigned varints for counts and integers,
// 8 little-endian bytes for floats and 4 for the float32 the history is
// kept in (exact, NaN included).
type stateEncoder struct{ b []byte }

func (e *stateEncoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *stateEncoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *stateEncoder) float(v float64) {
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v))
}
func (e *stateEncoder) float32(v float32) {
	e.b = binary.LittleEndian.AppendUint32(e.b, math.Float32bits(v))
}

func (e *stateEncoder) duration(d time.Duration) { e.int(int64(d)) }

func (e *stateEncoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// time writes the zero time as a lone 0, any other as 1, its Unix
// seconds and nanoseconds (any year, unlike Unix nanoseconds alone).
func (e *stateEncoder) time(t time.Time) {
	e.bool(!t.IsZero())
	if !t.IsZero() {
		e.int(t.Unix())
		e.uint(uint64(t.Nanosecond()))
	}
}

func (e *stateEncoder) floats(v []float64) {
	e.uint(uint64(len(v)))
	for _, x := range v {
		e.float(x)
	}
}

// stateDecoder reads what stateEncoder wrote. The first problem is kept in
// err, naming where it was found; reads after it return zeros.
type stateDecoder struct {
	b   []byte
	off int // offset of b[0] in the whole state, for messages
	err error
}

func (d *stateDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("at byte %d: %s", d.off, fmt.Sprintf(format, args...))
	}
	d.b = nil
}

func (d *stateDecoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("the state ends early")
		return nil
	}
	v := d.b[:n]
	d.b, d.off = d.b[n:], d.off+n
	return v
}

func (d *stateDecoder) byte() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *stateDecoder) bool() bool {
	switch v := d.byte(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("a flag of %d, want 0 or 1", v)
		return false
	}
}

func (d *stateDecoder) uint() uint64 { return readVarint(d, binary.Uvarint) }
func (d *stateDecoder) int() int64   { return readVarint(d, binary.Varint) }

// readVarint reads one number with read (binary.Uvarint or Varint).
func readVarint[T uint64 | int64](d *stateDecoder, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.b)
	if n <= 0 {
		d.fail("a malformed number")
		return 0
	}
	d.b, d.off = d.b[n:], d.off+n
	return v
}

func (d *stateDecoder) float() float64 {
	if v := d.take(8); v != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(v))
	}
	return 0
}

func (d *stateDecoder) float32() float32 {
	if v := d.take(4); v != nil {
		return math.Float32frombits(binary.LittleEndian.Uint32(v))
	}
	return 0
}

// count reads a count of what, which must be at most limit.
func (d *stateDecoder) count(what string, limit int) int {
	v := d.uint()
	if v > uint64(limit) {
		d.fail("%s %d, beyond the %d an analyzer of these options holds", what, v, limit)
		return 0
	}
	return int(v)
}

func (d *stateDecoder) floats(dst []float64, what string, limit int) []float64 {
	n := d.count(what, limit)
	for range n {
		dst = append(dst, d.float())
	}
	return dst
}

func (d *stateDecoder) time() time.Time {
	if !d.bool() {
		return time.Time{}
	}
	sec := d.int()
	return time.Unix(sec, int64(d.count("nanoseconds", 999_999_999)))
}
