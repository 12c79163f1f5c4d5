package leakdetect

import "github.com/memwatch/memwatch/internal/version"

// ScopeName is the instrumentation scope of the detector's spans and metrics.
const ScopeName = "github.com/memwatch/memwatch/leakdetect"

// Version is the version of memwatch.
const Version = version.Version
