package spans

// ScopeName is the instrumentation scope of the spans this package creates.
const ScopeName = "github.com/memwatch/memwatch/spans"

// Version is the version of memwatch.
const Version = "0.1.0"
