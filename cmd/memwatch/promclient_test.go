package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// promServer answers build info and one goroutine series as Prometheus
// does, and range queries with rangeHandler. The returned channel closes
// when the test ends, so a handler that hangs can return.
func promServer(t *testing.T, seriesBody string, rangeHandler func(http.ResponseWriter, *http.Request, <-chan struct{})) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/status/buildinfo", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"success","data":{"version":"3.16.0"}}`))
	})
	mux.HandleFunc("/api/v1/series", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(seriesBody))
	})
	release := make(chan struct{})
	mux.HandleFunc("/api/v1/query_range", func(w http.ResponseWriter, r *http.Request) { rangeHandler(w, r, release) })
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv.URL
}

const oneSeries = `{"status":"success","data":[{"__name__":"go_goroutines","job":"api","instance":"a:1"}]}`

// TestScanTimeout: a Prometheus that never answers a range query ends
// the scan with status 2 and names the query that timed out.
func TestScanTimeout(t *testing.T) {
	url := promServer(t, oneSeries, func(_ http.ResponseWriter, _ *http.Request, release <-chan struct{}) {
		<-release // hangs until the test ends
	})
	var out, errOut bytes.Buffer
	status := run([]string{"scan", "--prometheus", url, "--range", "1h", "--timeout", "300ms"}, nil, &out, &errOut)
	want := `query {__name__="go_goroutines",instance="a:1",job="api"}: no whole answer in time: none within 300ms (--timeout)`
	if status != exitError || !strings.Contains(errOut.String(), want) {
		t.Errorf("status %d, stderr %q; want 2 and %q", status, errOut.String(), want)
	}
}

// TestScanTimeoutDripping: a server that sends its answer a byte at a
// time, slower than the timeout allows, is cut off too.
func TestScanTimeoutDripping(t *testing.T) {
	url := promServer(t, oneSeries, func(w http.ResponseWriter, _ *http.Request, release <-chan struct{}) {
		for {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-release:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	var out, errOut bytes.Buffer
	status := run([]string{"scan", "--prometheus", url, "--range", "1h", "--timeout", "300ms"}, nil, &out, &errOut)
	if status != exitError || !strings.Contains(errOut.String(), "no whole answer in time") {
		t.Errorf("status %d, stderr %q; want 2 and a timeout", status, errOut.String())
	}
}

// TestScanResponseTooLarge: an answer over --max-response-mib is an
// error, exit 2, not a process that swells to hold it.
func TestScanResponseTooLarge(t *testing.T) {
	big := `{"status":"success","data":[` + strings.Repeat(`{"__name__":"go_goroutines","job":"api","instance":"a:1"},`, 40000) + `{"__name__":"go_goroutines","job":"api","instance":"a:1"}]}`
	url := promServer(t, big, func(http.ResponseWriter, *http.Request, <-chan struct{}) {})
	var out, errOut bytes.Buffer
	status := run([]string{"scan", "--prometheus", url, "--range", "1h", "--max-response-mib", "1"}, nil, &out, &errOut)
	if status != exitError || !strings.Contains(errOut.String(), "list memwatch_heap_live_bytes series:") || !strings.Contains(errOut.String(), "answer larger than 1 MiB (--max-response-mib)") {
		t.Errorf("status %d, stderr %q; want 2 and the answer named too large", status, errOut.String())
	}
}

// TestScanBadFlagsAgainstEachOther: a step longer than the range, bad
// bounds; status 2 naming the flag, no panic.
func TestScanBadFlagsAgainstEachOther(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--step", "100y"}, "--step 100y is longer than --range 7d"},
		{[]string{"--step", "1000d"}, "--step 1000d is longer than --range 7d"},
		{[]string{"--range", "1h", "--step", "2h"}, "--step 2h is longer than --range 1h"},
		{[]string{"--range", "1000y"}, `--range "1000y"`},
		{[]string{"--timeout", "0s"}, "--timeout 0s: must be positive"},
		{[]string{"--max-response-mib", "0"}, "--max-response-mib 0"},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"scan", "--prometheus", "http://127.0.0.1:1"}, tt.args...)
		if status := run(args, nil, &out, &errOut); status != exitError || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: status %d, stderr %q; want 2 and %q", tt.args, status, errOut.String(), tt.want)
		}
	}
}

// TestScanLongStepsOverALongRange: steps of 30 days over 100 years are
// one query, not an overflowed chunk size.
func TestScanLongStepsOverALongRange(t *testing.T) {
	var p fakeProm
	p.add(ls("go_goroutines", "api", "a:1"), constant(10))
	status, _, _, err := runScan(t, &p, scanConfig{rng: 100 * 365 * 24 * time.Hour, step: 30 * 24 * time.Hour})
	if err != nil || status != exitClean || p.queries.Load() != 1 {
		t.Errorf("status %d, %v, %d queries; want 0, no error, one query", status, err, p.queries.Load())
	}
}

// TestScanRedactsThePassword: credentials in --prometheus never reach
// memwatch's messages.
func TestScanRedactsThePassword(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var out, errOut bytes.Buffer
	status := run([]string{"scan", "--prometheus", "http://scanner:s3cret@" + addr}, nil, &out, &errOut)
	if status != exitError || strings.Contains(errOut.String(), "s3cret") || !strings.Contains(errOut.String(), "scanner:xxxxx@") {
		t.Errorf("status %d, stderr %q; want 2 and the password redacted", status, errOut.String())
	}
}

// TestScanEscapesLabels: control characters in a label reach neither the
// table nor an error raw.
func TestScanEscapesLabels(t *testing.T) {
	var p fakeProm
	p.add(ls("memwatch_heap_live_bytes", "api\x1b[2J", "a:1\x07"), memory(1, 200e6, 20e6, 24*time.Hour))
	p.add(ls("go_goroutine_count", "api\x1b[2J", "a:1\x07"), constant(-5))
	cfg := scanConfig{rng: 3 * 24 * time.Hour, step: time.Minute, parallel: 1, end: scanEnd}
	var out, errOut bytes.Buffer
	status, err := scan(t.Context(), &p, cfg, &out, &errOut)
	if status != exitError || err == nil {
		t.Fatalf("status %d, %v; want 2 and the negative count reported", status, err)
	}
	for _, s := range []string{out.String(), err.Error()} {
		if strings.ContainsAny(s, "\x1b\x07") || !strings.Contains(s, `"api\x1b[2J"`) {
			t.Errorf("output %q: want the labels escaped", s)
		}
	}
}
