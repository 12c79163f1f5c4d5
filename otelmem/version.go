package otelmem

import "github.com/memwatch/memwatch/internal/version"

// ScopeName is the instrumentation scope of the instruments otelmem creates.
const ScopeName = "github.com/memwatch/memwatch/otelmem"

// Version is the version of memwatch.
const Version = version.Version
