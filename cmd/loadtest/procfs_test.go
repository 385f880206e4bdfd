package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{"plain", "4242 (checkpointd) S 1 4242 4242 0 -1 4194304 2795 0 0 0 1234 567 0 0 20 0 9 0 100 0 0", 18010 * time.Millisecond, false},
		{"name with spaces and parentheses", "7 (a) b (c)) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 5 0 0", 70 * time.Millisecond, false},
		{"no name", "4242 checkpointd S 1", 0, true},
		{"too short", "4242 (checkpointd) S 1 4242", 0, true},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 4 0 0 20 0 1 0 5 0 0", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU(tc.stat)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestProcCPUOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
}

func TestCPUPerRequest(t *testing.T) {
	for _, tc := range []struct {
		name          string
		before, after time.Duration
		r             result
		d             time.Duration
		want          time.Duration
	}{
		{"built-in: its count", 0, time.Second, result{requests: 10000, rps: 1}, 2 * time.Second, 100 * time.Microsecond},
		{"wrk: rate over whole seconds", time.Second, 3 * time.Second, result{rps: 5000}, 2500 * time.Millisecond, 200 * time.Microsecond},
		{"no requests", 0, time.Second, result{}, time.Second, 0},
		{"after below before", time.Second, 0, result{requests: 5}, time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cpuPerRequest(tc.before, tc.after, tc.r, tc.d); got != tc.want {
				t.Fatalf("cpuPerRequest = %v, want %v", got, tc.want)
			}
		})
	}
}
