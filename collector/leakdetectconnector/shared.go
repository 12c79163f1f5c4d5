package leakdetectconnector

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// One leakdetect connector in a configuration may feed a logs pipeline
// (findings), a metrics pipeline (the streams' state), or both. The
// Collector asks the factory for one component per output; both share one
// connector, so each point is analyzed once. The connector's
// configuration object, one per ID and per configuration load, is the
// key: a reloaded configuration gets connectors of its own.
var shared = struct {
	sync.Mutex
	byConfig map[*Config]*leakConnector
}{byConfig: map[*Config]*leakConnector{}}

// sharedConnector returns cfg's connector, made on the first call.
func sharedConnector(set connector.Settings, cfg *Config, attach func(*leakConnector)) (*leakConnector, error) {
	shared.Lock()
	defer shared.Unlock()
	c, ok := shared.byConfig[cfg]
	if !ok {
		var err error
		if c, err = newConnector(set, cfg, nil); err != nil {
			return nil, err
		}
		c.forget = func() {
			shared.Lock()
			delete(shared.byConfig, cfg)
			shared.Unlock()
		}
		shared.byConfig[cfg] = c
	}
	attach(c)
	return c, nil
}

// outputComponent is one output of a shared connector: the component the
// Collector starts, feeds and shuts down. Only one output of a connector
// analyzes what it is fed (the logs output when there is one); the
// Collector feeds the other the same data, which it ignores.
type outputComponent struct {
	c    *leakConnector
	logs bool // the logs output
}

func (o *outputComponent) Start(ctx context.Context, host component.Host) error {
	return o.c.startOnce(ctx, host)
}

func (o *outputComponent) Shutdown(ctx context.Context) error {
	return o.c.shutdownOnce(ctx)
}

func (o *outputComponent) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (o *outputComponent) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	if !o.logs && o.c.nextLogs != nil {
		return nil
	}
	return o.c.ConsumeMetrics(ctx, md)
}

// startOnce starts the connector for the first of its outputs to start.
func (c *leakConnector) startOnce(ctx context.Context, host component.Host) error {
	c.started.Do(func() { c.startErr = c.Start(ctx, host) })
	return c.startErr
}

// shutdownOnce shuts the connector down for the first of its outputs to
// stop, and lets the factory forget it.
func (c *leakConnector) shutdownOnce(ctx context.Context) error {
	c.stopped.Do(func() {
		c.stopErr = c.Shutdown(ctx)
		if c.forget != nil {
			c.forget()
		}
	})
	return c.stopErr
}
