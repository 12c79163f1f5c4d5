package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Bounds of one request to Prometheus: a server that hangs, drips or
// answers with more than a scan can hold ends the scan with an error,
// never a wait without end or a process that swells.
const (
	defaultTimeout     = 2 * time.Minute
	defaultMaxResponse = 256 << 20
)

// newPromAPI is the query API at rawURL, each request bounded by timeout
// and its answer by maxBytes.
func newPromAPI(rawURL string, timeout time.Duration, maxBytes int64) (promAPI, error) {
	client, err := api.NewClient(api.Config{
		Address:      rawURL,
		RoundTripper: boundedTransport{base: api.DefaultRoundTripper, max: maxBytes},
	})
	if err != nil {
		return nil, err
	}
	return timeoutAPI{api: v1.NewAPI(client), d: timeout}, nil
}

// boundedTransport fails a response body longer than max bytes.
type boundedTransport struct {
	base http.RoundTripper
	max  int64
}

func (b boundedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &boundedBody{rc: resp.Body, left: b.max, max: b.max}
	return resp, nil
}

type boundedBody struct {
	rc        io.ReadCloser
	left, max int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.tooLarge()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, b.tooLarge()
	}
	return n, err
}

func (b *boundedBody) tooLarge() error {
	return fmt.Errorf("answer larger than %d MiB (--max-response-mib): narrow --selector or --range, or raise the bound", b.max>>20)
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// timeoutAPI gives each request its own deadline and says which one
// passed it.
type timeoutAPI struct {
	api promAPI
	d   time.Duration
}

// errTimeout wraps a request that got no whole answer in time.
var errTimeout = errors.New("no whole answer in time")

func (t timeoutAPI) bounded(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: none within %v (--timeout)", errTimeout, t.d)
	}
	return err
}

func (t timeoutAPI) Buildinfo(ctx context.Context) (v1.BuildinfoResult, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	r, err := t.api.Buildinfo(ctx)
	return r, t.bounded(ctx, err)
}

func (t timeoutAPI) Series(ctx context.Context, matches []string, start, end time.Time, opts ...v1.Option) ([]model.LabelSet, v1.Warnings, v1.Infos, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	s, w, i, err := t.api.Series(ctx, matches, start, end, opts...)
	return s, w, i, t.bounded(ctx, err)
}

func (t timeoutAPI) QueryRange(ctx context.Context, query string, r v1.Range, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	v, w, i, err := t.api.QueryRange(ctx, query, r, opts...)
	return v, w, i, t.bounded(ctx, err)
}

// redacted is rawURL with any password replaced, for messages.
func redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}
