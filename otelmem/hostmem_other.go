//go:build !linux

package otelmem

import "github.com/shirou/gopsutil/v3/mem"

// hostMemory asks gopsutil where there is no /proc to read.
func hostMemory(string) (uint64, error) {
	vm, err := mem.VirtualMemory()
	if err != nil {
		return 0, err
	}
	return vm.Total, nil
}
