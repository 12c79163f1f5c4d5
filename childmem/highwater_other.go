//go:build !linux

package childmem

import "errors"

// HighWater is not known without /proc.
func HighWater(int) (uint64, error) { return 0, errors.ErrUnsupported }
