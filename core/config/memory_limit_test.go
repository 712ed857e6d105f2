package config

import "testing"

// TestMemoryLimitBytes: server.memory_limit takes GOMEMLIMIT's units or off,
// and refuses nonsense and limits too small to run in.
func TestMemoryLimitBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int64
		on   bool
		fail bool
	}{
		{"", 0, false, false}, {"off", 0, false, false}, {"auto", AutoMemoryLimit, true, false}, {"48MiB", 48 << 20, true, false},
		{"1GiB", 1 << 30, true, false}, {"65536KiB", 64 << 20, true, false}, {"33554432", 32 << 20, true, false},
		{"8MiB", 0, false, true}, {"-1", 0, false, true}, {"48MB", 0, false, true}, {"lots", 0, false, true},
	} {
		n, on, err := ServerConfig{MemoryLimit: c.in}.MemoryLimitBytes()
		if n != c.n || on != c.on || (err != nil) != c.fail {
			t.Errorf("%q: %d %v %v, want %d %v fail=%v", c.in, n, on, err, c.n, c.on, c.fail)
		}
	}
}
