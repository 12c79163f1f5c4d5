package spans

import "github.com/memwatch/memwatch/internal/version"

// ScopeName is the instrumentation scope of the spans this package creates.
const ScopeName = "github.com/memwatch/memwatch/spans"

// Version is the version of memwatch.
const Version = version.Version
