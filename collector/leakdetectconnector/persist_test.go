package leakdetectconnector

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/memwatch/memwatch/internal/testutil/scenario"
)

// memStorage is a storage extension holding its entries in memory, kept
// across the connectors a test starts, as file_storage keeps them across
// Collector restarts.
type memStorage struct {
	mu      sync.Mutex
	entries map[string][]byte
}

func (m *memStorage) Start(context.Context, component.Host) error { return nil }
func (m *memStorage) Shutdown(context.Context) error              { return nil }
func (m *memStorage) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return memClient{m}, nil
}

type memClient struct{ m *memStorage }

func (c memClient) Get(_ context.Context, k string) ([]byte, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	return slices.Clone(c.m.entries[k]), nil
}
func (c memClient) Set(_ context.Context, k string, v []byte) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.m.entries[k] = slices.Clone(v)
	return nil
}
func (c memClient) Delete(_ context.Context, k string) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	delete(c.m.entries, k)
	return nil
}
func (c memClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	for _, op := range ops {
		switch op.Type {
		case storage.Get:
			op.Value, _ = c.Get(ctx, op.Key)
		case storage.Set:
			_ = c.Set(ctx, op.Key, op.Value)
		case storage.Delete:
			_ = c.Delete(ctx, op.Key)
		}
	}
	return nil
}
func (c memClient) Close(context.Context) error { return nil }

type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

var storageID = component.MustNewID("file_storage")

func startWithStorage(t *testing.T, store *memStorage, sink *consumertest.LogsSink) *leakConnector {
	t.Helper()
	cfg := createDefaultConfig()
	cfg.Storage = &storageID
	c, err := newConnector(nopSettings(), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background(), hostWith{storageID: store}); err != nil {
		t.Fatal(err)
	}
	return c
}

func findingTimes(sink *consumertest.LogsSink) []time.Time {
	var out []time.Time
	for _, l := range sink.AllLogs() {
		for _, rl := range l.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out = append(out, lr.Timestamp().AsTime())
				}
			}
		}
	}
	return out
}

// TestRestartContinuesFromSavedState: a Collector stopped mid-run and
// started again with the same storage continues every stream where it
// stopped: its findings come when the uninterrupted run's do, not after a
// new warm-up. The cut falls before the leak is found.
func TestRestartContinuesFromSavedState(t *testing.T) {
	leak := scenario.Scenario{Name: "leak", Duration: 10 * time.Hour, Interval: 10 * time.Second,
		HeapBase: 200 * scenario.MB, Noise: 0.02, RSSOverhead: 1.4, Goroutines: 100,
		RSSLeak: 15 * scenario.MB, LeakStart: 3 * time.Hour}
	flat := scenario.Scenario{Name: "flat", Duration: 10 * time.Hour, Interval: 10 * time.Second,
		HeapBase: 300 * scenario.MB, Noise: 0.05, RSSOverhead: 1.4, Goroutines: 100}
	all := batches([]proc{{1, "leaky", leak.Samples(3)}, {2, "steady", flat.Samples(3)}}, "process.memory.usage", rss)

	whole := new(consumertest.LogsSink)
	c := startWithStorage(t, &memStorage{entries: map[string][]byte{}}, whole)
	for _, md := range all {
		if err := c.ConsumeMetrics(context.Background(), md); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Shutdown(context.Background())
	want := findingTimes(whole)
	if len(want) == 0 {
		t.Fatal("the uninterrupted run found nothing; the test needs a leak found after the cut")
	}

	store := &memStorage{entries: map[string][]byte{}}
	cut := len(all) * 2 / 5 // 4 hours in: an hour into the leak, before its finding
	before := new(consumertest.LogsSink)
	c = startWithStorage(t, store, before)
	for _, md := range all[:cut] {
		if err := c.ConsumeMetrics(context.Background(), md); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := new(consumertest.LogsSink)
	c = startWithStorage(t, store, after)
	defer c.Shutdown(context.Background())
	if n := c.streams.len(); n != 2 {
		t.Fatalf("%d streams restored, want 2", n)
	}
	for _, md := range all[cut:] {
		if err := c.ConsumeMetrics(context.Background(), md); err != nil {
			t.Fatal(err)
		}
	}
	if len(findingTimes(after)) == 0 {
		t.Fatal("no finding after the restart: the cut must fall before the leak is found")
	}
	got := append(findingTimes(before), findingTimes(after)...)
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("findings across the restart at %v, the uninterrupted run's at %v", got, want)
	}
}

// TestUnreadableSavedStreamStartsAfresh: a saved entry that is not a
// stream's state is reported and skipped; the connector starts, and the
// readable streams are restored.
func TestUnreadableSavedStreamStartsAfresh(t *testing.T) {
	store := &memStorage{entries: map[string][]byte{}}
	c := startWithStorage(t, store, new(consumertest.LogsSink))
	md := batches([]proc{{1, "a", scenario.Scenario{Duration: time.Hour, Interval: 10 * time.Second, HeapBase: 100 * scenario.MB, RSSOverhead: 1.2}.Samples(1)},
		{2, "b", scenario.Scenario{Duration: time.Hour, Interval: 10 * time.Second, HeapBase: 100 * scenario.MB, RSSOverhead: 1.2}.Samples(2)}},
		"process.memory.usage", rss)
	for _, m := range md {
		if err := c.ConsumeMetrics(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var corrupted int
	for k, v := range store.entries {
		if strings.HasPrefix(k, streamPrefix) && corrupted == 0 {
			v[len(v)-1] ^= 0xff // the analyzer state's checksum no longer matches
			corrupted++
		}
	}
	c = startWithStorage(t, store, new(consumertest.LogsSink))
	defer c.Shutdown(context.Background())
	if n := c.streams.len(); n != 1 {
		t.Errorf("%d streams restored, want the 1 readable one", n)
	}
}

// TestStorageThatIsNotThere: a storage ID the service lacks, or one that
// is not a storage extension, fails the start with its name.
func TestStorageThatIsNotThere(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Storage = &storageID
	for _, host := range []hostWith{{}, {storageID: new(notStorage)}} {
		c, err := newConnector(nopSettings(), cfg, new(consumertest.LogsSink))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(context.Background(), host); err == nil || !strings.Contains(err.Error(), "file_storage") {
			t.Errorf("Start: %v, want an error naming file_storage", err)
		}
	}
}

type notStorage struct{}

func (notStorage) Start(context.Context, component.Host) error { return nil }
func (notStorage) Shutdown(context.Context) error              { return nil }
