package otelmem

// ScopeName is the instrumentation scope of the instruments otelmem creates.
const ScopeName = "github.com/memwatch/memwatch/otelmem"

// Version is the version of memwatch.
const Version = "0.1.0"
