package main

import "github.com/memwatch/memwatch/leakdetect"

// maxPlotSamples is how many samples a plot keeps of a series: a 10-inch
// picture shows no more, and a recording of millions of rows must not be
// held whole to draw it.
const maxPlotSamples = 8192

// thinned keeps an evenly spaced subset of a stream of samples, at most
// maxPlotSamples: every stride-th, the stride doubling (and every other
// kept sample dropped) each time the buffer fills.
type thinned struct {
	kept   []leakdetect.Sample
	stride int
	seen   int
}

func (t *thinned) add(s leakdetect.Sample) {
	if t.stride == 0 {
		t.stride = 1
	}
	defer func() { t.seen++ }()
	if t.seen%t.stride != 0 {
		return
	}
	if len(t.kept) == maxPlotSamples {
		n := 0
		for i := 0; i < len(t.kept); i += 2 {
			t.kept[n] = t.kept[i]
			n++
		}
		t.kept = t.kept[:n]
		t.stride *= 2
		if t.seen%t.stride != 0 {
			return
		}
	}
	t.kept = append(t.kept, s)
}
