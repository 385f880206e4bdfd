package main

import "testing"

// TestParseSize: sizes in bytes or binary units, and their split among
// the caches, which never gives one more than the whole.
func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{{"0", 0}, {"1048576", 1 << 20}, {"512KiB", 512 << 10}, {"16MiB", 16 << 20}, {"2GiB", 2 << 30}} {
		got, err := parseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
		b := splitCache(got)
		if got == 0 {
			if b.store >= 0 || b.bodies >= 0 || b.credentials >= 0 {
				t.Errorf("splitCache(0) = %+v, want every cache off (negative)", b)
			}
			continue
		}
		if b.store+b.bodies+b.credentials != got || b.store <= 0 || b.bodies <= 0 || b.credentials <= 0 {
			t.Errorf("splitCache(%d) = %+v: not a split of the whole", got, b)
		}
	}
	for _, in := range []string{"", "16MB", "MiB", "-1", "1.5MiB", "9999999999GiB", " 16MiB"} {
		if n, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, n)
		}
	}
}
