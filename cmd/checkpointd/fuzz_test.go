package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/client"
)

// FuzzParseLimit: any --rate-limit value is parsed without panicking; what
// it accepts is a positive count over a window of at least a second (or 0,
// no limit), and written back as N/WINDOW it parses to the same limit.
func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"0", "6000/1m", "50/1m", "1/1s", "100/0.5s", "-1/1m", "9223372036854775807/1h", "1/", "/1m", "1/1m/1m", "00/1m", "+5/1m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseLimit(s)
		if err != nil {
			return
		}
		if s == "0" {
			if l.Requests != 0 || l.Window != 0 {
				t.Fatalf("parseLimit(0) = %+v, want no limit", l)
			}
			return
		}
		if l.Requests <= 0 || l.Window < time.Second {
			t.Fatalf("parseLimit(%q) accepted %+v", s, l)
		}
		again, err := parseLimit(fmt.Sprintf("%d/%s", l.Requests, l.Window))
		if err != nil || again != l {
			t.Fatalf("%q parsed to %+v; written back it parses to %+v, %v", s, l, again, err)
		}
	})
}

// FuzzParseAPI: --api accepts exactly the generations' names.
func FuzzParseAPI(f *testing.F) {
	for _, s := range []string{"atlas-v2", "atlas-v1", "cloud-manager", "ATLAS-V2", "atlas-v2 ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := client.ParseAPI(s)
		if err == nil && string(a) != s {
			t.Fatalf("ParseAPI(%q) = %q", s, a)
		}
		known := false
		for _, k := range client.APIs {
			known = known || string(k) == s
		}
		if known != (err == nil) {
			t.Fatalf("ParseAPI(%q) = %q, %v", s, a, err)
		}
	})
}
