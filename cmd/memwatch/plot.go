package main

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/memwatch/memwatch/leakdetect"
)

// plotTarget fetches a flagged target's series again (the scan does not
// keep them) and draws each flagged signal.
func plotTarget(ctx context.Context, p promAPI, t *target, start, end time.Time, step time.Duration, findings []leakdetect.Finding, dir string) error {
	var samples thinned
	err := eachChunk(ctx, p, t, start, end, step, func(pts []point) error {
		for _, pt := range pts {
			s, _, _ := pt.sample(t) // the scan reported values left out
			samples.add(s)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return plotSamples(dir, t.service()+" "+t.instance(), samples.kept, findings)
}

// plotSamples writes one PNG per flagged signal into dir: the samples,
// their 30-minute medians (the robust level a person can read), the
// finding's fitted trend over its window, the moment it was found, and the
// limit when known.
func plotSamples(dir, title string, samples []leakdetect.Sample, findings []leakdetect.Finding) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bySignal := map[string][]leakdetect.Finding{}
	for _, f := range findings {
		bySignal[f.Signal] = append(bySignal[f.Signal], f)
	}
	for signal, fs := range bySignal {
		path := filepath.Join(dir, fileName(title+" "+signal)+".png")
		if err := drawSignal(path, title, signal, samples, fs); err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
	}
	return nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileName(s string) string { return unsafeName.ReplaceAllString(s, "_") }

func value(s leakdetect.Sample, signal string) float64 {
	switch signal {
	case leakdetect.SignalHeapLive:
		return float64(s.HeapLive)
	case leakdetect.SignalRSS:
		return float64(s.RSS)
	default:
		return float64(s.Goroutines)
	}
}

func drawSignal(path, title, signal string, samples []leakdetect.Sample, findings []leakdetect.Finding) error {
	if len(samples) == 0 {
		return fmt.Errorf("no samples")
	}
	t0 := samples[0].Time
	hours := func(t time.Time) float64 { return t.Sub(t0).Hours() }
	scale, unit := 1.0/(1<<20), "MiB"
	if signal == leakdetect.SignalGoroutines {
		scale, unit = 1, "goroutines"
	}

	p := plot.New()
	p.Title.Text = title + ": " + signal
	p.X.Label.Text = "hours since " + t0.UTC().Format("2006-01-02 15:04 MST")
	p.Y.Label.Text = unit

	raw := make(plotter.XYs, 0, len(samples))
	var limit plotter.XYs
	for _, s := range samples {
		raw = append(raw, plotter.XY{X: hours(s.Time), Y: value(s, signal) * scale})
		if s.Limit > 0 && signal != leakdetect.SignalGoroutines {
			limit = append(limit, plotter.XY{X: hours(s.Time), Y: float64(s.Limit) * scale})
		}
	}
	pts, err := plotter.NewScatter(raw)
	if err != nil {
		return err
	}
	pts.GlyphStyle.Radius = vg.Points(0.8)
	pts.GlyphStyle.Color = color.RGBA{R: 150, G: 150, B: 150, A: 255}
	p.Add(pts)
	p.Legend.Add("samples", pts)

	levels, err := plotter.NewLine(medians(raw, 0.5))
	if err != nil {
		return err
	}
	levels.Color = color.RGBA{B: 200, A: 255}
	levels.Width = vg.Points(1.5)
	p.Add(levels)
	p.Legend.Add("30-minute median", levels)

	for _, f := range findings {
		from := f.Time.Add(-f.Window)
		fit, err := plotter.NewLine(plotter.XYs{
			{X: hours(from), Y: float64(f.Baseline) * scale},
			{X: hours(f.Time), Y: float64(f.Current) * scale},
		})
		if err != nil {
			return err
		}
		fit.Color = color.RGBA{R: 220, A: 255}
		fit.Width = vg.Points(2.5)
		p.Add(fit)
		mark, err := plotter.NewScatter(plotter.XYs{{X: hours(f.Time), Y: float64(f.Current) * scale}})
		if err != nil {
			return err
		}
		mark.GlyphStyle.Shape = draw.CrossGlyph{}
		mark.GlyphStyle.Radius = vg.Points(6)
		mark.GlyphStyle.Color = color.RGBA{R: 220, A: 255}
		p.Add(mark)
		if f == findings[0] {
			p.Legend.Add(fmt.Sprintf("%s finding (%s over %v)", f.Reason, amount(f.Signal, f.Growth), f.Window.Round(time.Minute)), fit)
		}
	}
	if len(limit) > 0 {
		l, err := plotter.NewLine(limit)
		if err != nil {
			return err
		}
		l.Color = color.Black
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add("memory limit", l)
	}
	p.Legend.Top, p.Legend.Left = true, true
	return p.Save(10*vg.Inch, 5*vg.Inch, path)
}

// medians returns the median of the points in each window (hours wide).
func medians(xys plotter.XYs, window float64) plotter.XYs {
	var out plotter.XYs
	for i := 0; i < len(xys); {
		end := xys[i].X + window
		var ys []float64
		j := i
		for ; j < len(xys) && xys[j].X < end; j++ {
			ys = append(ys, xys[j].Y)
		}
		slices.Sort(ys)
		out = append(out, plotter.XY{X: (xys[i].X + xys[j-1].X) / 2, Y: ys[len(ys)/2]})
		i = j
	}
	return out
}
