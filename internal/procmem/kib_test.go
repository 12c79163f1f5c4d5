package procmem

import "testing"

func TestKiBField(t *testing.T) {
	status := []byte("Name:\tcat\nVmPeak:\t    9000 kB\nVmHWM:\t     1204 kB\n")
	for _, tt := range []struct {
		data        string
		key         string
		want        uint64
		found, fail bool
	}{
		{string(status), "VmHWM", 1204 << 10, true, false},
		{string(status), "VmRSS", 0, false, false},
		{"MemTotal:       16777216 kB\n", "MemTotal", 16777216 << 10, true, false},
		{"VmHWM: lots kB\n", "VmHWM", 0, true, true},
		{"VmHWM: 99999999999999999 kB\n", "VmHWM", 0, true, true}, // beyond 2^63 bytes
	} {
		n, found, err := KiBField([]byte(tt.data), tt.key)
		if n != tt.want || found != tt.found || (err != nil) != tt.fail {
			t.Errorf("KiBField(%q, %s) = %d, %v, %v; want %d, %v, error %v", tt.data, tt.key, n, found, err, tt.want, tt.found, tt.fail)
		}
	}
}
