// Package proc reads process CPU times from /proc and runs the processes
// under test.
package proc

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// CPU is the user and system CPU time a process has used.
type CPU struct{ User, System time.Duration }

// Total is User+System.
func (c CPU) Total() time.Duration { return c.User + c.System }

// Sub returns the CPU time used between earlier and c.
func (c CPU) Sub(earlier CPU) time.Duration { return c.Total() - earlier.Total() }

// CPUTime reads the CPU time of pid from /proc/PID/stat.
func CPUTime(pid int) (CPU, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return CPU{}, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	return parseStat(b)
}

// Self reads this process's CPU time.
func Self() (CPU, error) { return CPUTime(os.Getpid()) }

// parseStat reads utime and stime (fields 14 and 15) of a /proc/PID/stat
// line. The command name (field 2) is in parentheses and may hold spaces,
// so fields are counted from its closing parenthesis.
func parseStat(b []byte) (CPU, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return CPU{}, fmt.Errorf("malformed /proc stat line %q", b)
	}
	fields := bytes.Fields(b[i+1:])
	// fields[0] is field 3 (state): utime is field 14, stime 15.
	if len(fields) < 13 {
		return CPU{}, fmt.Errorf("malformed /proc stat line %q", b)
	}
	utime, err1 := strconv.ParseInt(string(fields[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(fields[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return CPU{}, fmt.Errorf("malformed /proc stat line %q", b)
	}
	return CPU{
		User:   time.Duration(utime) * time.Second / clockTicks,
		System: time.Duration(stime) * time.Second / clockTicks,
	}, nil
}
