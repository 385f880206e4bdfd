//go:build unix

package sqlite_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, user and system: on
// a machine shared with other work, what a benchmark's loop cost the
// machine, which its wall time per op is not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
