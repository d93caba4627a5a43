package testenv

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time (user and system) this process has used so
// far (getrusage(2), RUSAGE_SELF); 0 when it cannot be read. Benchmarks
// report the difference over their loop as a cpu-per-op figure.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
