package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/memwatch/memwatch/leakdetect"
)

// row is one finding of one series, as scan, replay, watch and run print it.
type row struct {
	Service     string        `json:"service"`
	Instance    string        `json:"instance"`
	Signal      string        `json:"signal"`
	Reason      string        `json:"reason"`
	FirstSeen   time.Time     `json:"first_seen"`
	RatePerHour int64         `json:"rate_per_hour"`
	Growth      int64         `json:"growth"`
	Window      time.Duration `json:"-"`
	TimeToLimit time.Duration `json:"-"`

	WindowSeconds      int64   `json:"window_seconds"`
	TimeToLimitSeconds int64   `json:"time_to_limit_seconds,omitempty"`
	Significance       float64 `json:"significance"`
}

func newRow(service, instance string, f leakdetect.Finding) row {
	return row{
		Service: service, Instance: instance, Signal: f.Signal, Reason: f.Reason,
		FirstSeen: f.Time.UTC(), RatePerHour: f.Rate, Growth: f.Growth, Window: f.Window,
		TimeToLimit: f.TimeToLimit, WindowSeconds: int64(f.Window.Seconds()),
		TimeToLimitSeconds: int64(f.TimeToLimit.Seconds()), Significance: f.Significance,
	}
}

// sortRows orders rows by service, instance, signal and time, so output
// does not depend on which worker finished first.
func sortRows(rows []row) {
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(strings.Compare(a.Service, b.Service), strings.Compare(a.Instance, b.Instance),
			strings.Compare(a.Signal, b.Signal), a.FirstSeen.Compare(b.FirstSeen))
	})
}

// printRows writes rows as a table for a person, or as JSON lines.
func printRows(w io.Writer, rows []row, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	if len(rows) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tINSTANCE\tSIGNAL\tREASON\tFIRST SEEN\tRATE/H\tGROWTH\tTIME TO LIMIT")
	for _, r := range rows {
		limit := "-"
		if r.TimeToLimit > 0 {
			limit = r.TimeToLimit.Round(time.Minute).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shown(r.Service), shown(r.Instance), r.Signal, r.Reason,
			r.FirstSeen.Format(time.RFC3339), amount(r.Signal, r.RatePerHour), amount(r.Signal, r.Growth), limit)
	}
	return tw.Flush()
}
