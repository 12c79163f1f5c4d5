package otelmem

import (
	"os"
	"reflect"
	"strconv"
	"sync"
	"time"
	"weak"

	"go.opentelemetry.io/contrib/instrumentation/runtime"
	"go.opentelemetry.io/otel/metric"
)

// runtimeStarted records the MeterProviders the contrib Go runtime
// instrumentation runs on. It registers callbacks it can never unregister,
// so a second start on one provider would observe every runtime metric
// twice (the SDK adds the observations: go.goroutine.count doubled). It is
// started once per provider and keeps reporting until the provider shuts
// down, whatever Monitors come and go on it.
//
// A provider is held weakly (a pointer, the common case), so recording it
// does not keep it alive; a provider that is a comparable value is held
// as that value.
var runtimeStarted struct {
	mu   sync.Mutex
	keys map[any]struct{}
}

// startRuntimeOnce starts the contrib runtime instrumentation on mp unless
// it already runs there.
func startRuntimeOnce(mp metric.MeterProvider) error {
	key, ok := providerKey(mp)
	runtimeStarted.mu.Lock()
	defer runtimeStarted.mu.Unlock()
	if ok {
		if _, started := runtimeStarted.keys[key]; started {
			return nil
		}
	}
	// Its runtime/metrics reads are cheap and stop nothing: read them at
	// every collection, so they move with memwatch's own instead of
	// repeating one value for 15 s. The deprecated metrics an environment
	// variable brings back use runtime.ReadMemStats, which stops the
	// world: those keep contrib's default interval. The variable is read
	// as contrib reads it (strconv.ParseBool).
	opts := []runtime.Option{runtime.WithMeterProvider(mp)}
	if deprecated, _ := strconv.ParseBool(os.Getenv("OTEL_GO_X_DEPRECATED_RUNTIME_METRICS")); !deprecated {
		// Contrib takes 0 for "its default": the least it takes is 1 ns.
		opts = append(opts, runtime.WithMinimumReadMemStatsInterval(time.Nanosecond))
	}
	if err := runtime.Start(opts...); err != nil {
		return err
	}
	if ok {
		if runtimeStarted.keys == nil {
			runtimeStarted.keys = map[any]struct{}{}
		}
		for k := range runtimeStarted.keys { // forget providers collected since
			if w, isWeak := k.(weak.Pointer[byte]); isWeak && w.Value() == nil {
				delete(runtimeStarted.keys, k)
			}
		}
		runtimeStarted.keys[key] = struct{}{}
	}
	return nil
}

// providerKey identifies mp: a weak pointer to what a pointer provider
// points at, or a comparable provider value itself. ok is false for a
// provider that cannot be told apart from others (a value that cannot be
// compared): the instrumentation is then started on every Start.
func providerKey(mp metric.MeterProvider) (key any, ok bool) {
	v := reflect.ValueOf(mp)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Type().Elem().Size() > 0 {
		return weak.Make((*byte)(v.UnsafePointer())), true
	}
	if v.Type().Comparable() {
		return mp, true
	}
	return nil, false
}
