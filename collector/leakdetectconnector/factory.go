package leakdetectconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/memwatch/memwatch/collector/leakdetectconnector/internal/metadata"
)

// NewFactory returns the factory of the leakdetect connector: from a
// metrics pipeline to a logs pipeline (findings), to a metrics pipeline
// (the streams' state), or to both from one analysis.
func NewFactory() connector.Factory {
	return connector.NewFactory(metadata.Type,
		func() component.Config { return createDefaultConfig() },
		connector.WithMetricsToLogs(createMetricsToLogs, metadata.MetricsToLogsStability),
		connector.WithMetricsToMetrics(createMetricsToMetrics, metadata.MetricsToMetricsStability))
}

func createMetricsToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Metrics, error) {
	c, err := sharedConnector(set, cfg.(*Config), func(c *leakConnector) { c.nextLogs = next })
	if err != nil {
		return nil, err
	}
	return &outputComponent{c: c, logs: true}, nil
}

func createMetricsToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Metrics, error) {
	c, err := sharedConnector(set, cfg.(*Config), func(c *leakConnector) { c.nextMetrics = next })
	if err != nil {
		return nil, err
	}
	return &outputComponent{c: c}, nil
}
