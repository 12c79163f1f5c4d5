package leakdetectconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
)

// componentType is the connector's type in a Collector configuration.
var componentType = component.MustNewType("leakdetect")

// NewFactory returns the factory of the leakdetect connector: from a
// metrics pipeline to a logs pipeline.
func NewFactory() connector.Factory {
	return connector.NewFactory(componentType,
		func() component.Config { return createDefaultConfig() },
		connector.WithMetricsToLogs(createMetricsToLogs, component.StabilityLevelAlpha))
}

func createMetricsToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Metrics, error) {
	return newConnector(set, cfg.(*Config), next)
}
