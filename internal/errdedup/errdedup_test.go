package errdedup

import (
	"errors"
	"testing"

	"go.opentelemetry.io/otel"
)

type countHandler struct{ got []string }

func (h *countHandler) Handle(err error) { h.got = append(h.got, err.Error()) }

func TestReportOncePerDistinctError(t *testing.T) {
	h := &countHandler{}
	otel.SetErrorHandler(h)
	t.Cleanup(func() { otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {})) })
	var r Reporter
	a, b := errors.New("a"), errors.New("b")
	for _, err := range []error{a, a, a, b, b, nil, nil, b, a} {
		r.Report(err)
	}
	want := []string{"a", "b", "b", "a"}
	if len(h.got) != len(want) {
		t.Fatalf("reported %v, want %v", h.got, want)
	}
	for i := range want {
		if h.got[i] != want[i] {
			t.Fatalf("reported %v, want %v", h.got, want)
		}
	}
}
