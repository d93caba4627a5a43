package simulate

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ProcStat is what Linux's /proc says of a process: its peak and current
// resident set (VmHWM, VmRSS) and the CPU time it used (utime + stime).
type ProcStat struct {
	PeakRSSBytes, RSSBytes int64
	CPU                    time.Duration
}

// clockTicks is USER_HZ, 100 on every Linux the server runs on.
const clockTicks = 100

// ReadProc reads /proc/PID/status and /proc/PID/stat (Linux only).
func ReadProc(pid int) (ProcStat, error) {
	var ps ProcStat
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps, err
	}
	for line := range strings.Lines(string(status)) {
		for name, dst := range map[string]*int64{"VmHWM:": &ps.PeakRSSBytes, "VmRSS:": &ps.RSSBytes} {
			if v, ok := strings.CutPrefix(line, name); ok {
				f := strings.Fields(v) // "123456 kB"
				if len(f) > 0 {
					kb, err := strconv.ParseInt(f[0], 10, 64)
					if err != nil {
						return ps, fmt.Errorf("%s %q: %w", name, v, err)
					}
					*dst = kb << 10
				}
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps, err
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return ps, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	// After ')': state(3) ... utime is field 14, stime 15 (1-based).
	if len(f) < 13 {
		return ps, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return ps, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	ps.CPU = time.Duration(ut+st) * time.Second / clockTicks
	return ps, nil
}

// ResetPeakRSS resets the peak resident set (VmHWM) of a process that the
// caller owns, so that a later ReadProc gives the peak of what followed
// (Linux: writing 5 to /proc/PID/clear_refs).
func ResetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}
