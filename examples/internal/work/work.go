// Package work is the examples' stand-in for a service's real work.
package work

// Touch writes every page of b so the memory is resident, as real data
// would be, and returns b.
func Touch(b []byte) []byte {
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return b
}
