package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// procStatus reads fields of /proc/PID/status given in kB (VmRSS, VmHWM),
// in bytes.
func procStatus(pid int, fields ...string) (map[string]int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	return parseStatus(string(b), fields...)
}

func parseStatus(s string, fields ...string) (map[string]int64, error) {
	m := map[string]int64{}
	for _, line := range strings.Split(s, "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || !slices.Contains(fields, name) {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q", name, v)
		}
		m[name] = kb << 10
	}
	for _, f := range fields {
		if _, ok := m[f]; !ok {
			return nil, fmt.Errorf("no %s in /proc/PID/status", f)
		}
	}
	return m, nil
}

// resetHWM sets the process's VmHWM (its resident set's high-water mark)
// back to its current VmRSS: writing 5 to /proc/PID/clear_refs (Linux
// 4.0 or later). It checks that the kernel did so.
func resetHWM(pid int) error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("resetting the RSS high-water mark: %w", err)
	}
	m, err := procStatus(pid, "VmHWM", "VmRSS")
	if err != nil {
		return err
	}
	// The resident set may grow between the two reads, never shrink the
	// mark below it; a mark well above it was not reset.
	if m["VmHWM"] > m["VmRSS"]+(4<<20) {
		return fmt.Errorf("writing 5 to /proc/%d/clear_refs left VmHWM at %s with VmRSS %s: not reset", pid, mib(m["VmHWM"]), mib(m["VmRSS"]))
	}
	return nil
}

// loadavg is the machine's 1-minute load average (/proc/loadavg), or -1.
func loadavg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// spread is the median and the range of a figure's repetitions.
type spread struct {
	median, min, max float64
}

func spreadOf(v []float64) spread {
	if len(v) == 0 {
		return spread{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{median: m, min: s[0], max: s[len(s)-1]}
}

// rps formats requests/s: "31990 (30100–32500)".
func (s spread) rps() string {
	return fmt.Sprintf("%.0f (%.0f–%.0f)", s.median, s.min, s.max)
}

// ms formats latencies given in seconds as milliseconds.
func (s spread) ms() string {
	return fmt.Sprintf("%.2f (%.2f–%.2f)", s.median*1e3, s.min*1e3, s.max*1e3)
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// userHZ is the unit of the times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go supports.
const userHZ = 100

// procCPU is the CPU time the process has used, user and system, all its
// threads (/proc/PID/stat's utime and stime).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

func parseStatCPU(s string) (time.Duration, error) {
	// The command's name, in parentheses, may hold spaces and
	// parentheses: the fields are counted from the last ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/PID/stat: no command name in %q", s)
	}
	f := strings.Fields(s[i+1:]) // from field 3, state
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/PID/stat: %d fields after the command name", len(f))
	}
	var ticks int64
	for _, v := range f[11:13] { // fields 14 and 15: utime, stime
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("/proc/PID/stat: CPU time %q", v)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// cpuPerRequest is the CPU time a process used between two readings of
// procCPU, over the requests a load run got answered: r.requests (the
// built-in generator), or its requests/s over the seconds it ran (wrk,
// which runs whole seconds).
func cpuPerRequest(before, after time.Duration, r result, d time.Duration) time.Duration {
	n := float64(r.requests)
	if n == 0 {
		n = r.rps * float64(max(1, int(d.Seconds())))
	}
	if n < 1 || after < before {
		return 0
	}
	return time.Duration(float64(after-before) / n)
}

// cpuSpread is ", checkpointd CPU MEDIAN (MIN–MAX) µs/req" of the
// repetitions, or "" when they were not measured.
func cpuSpread(rs []result) string {
	var v []float64
	for _, r := range rs {
		if r.cpu > 0 {
			v = append(v, float64(r.cpu)/float64(time.Microsecond))
		}
	}
	if len(v) == 0 {
		return ""
	}
	s := spreadOf(v)
	return fmt.Sprintf("  checkpointd CPU %.0f (%.0f–%.0f) µs/req", s.median, s.min, s.max)
}
