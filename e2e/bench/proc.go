package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tether-ml/tether/e2e/cluster"
)

func numCPU() int { return runtime.NumCPU() }

// cpuTime is the user+system CPU time of pid, from /proc/<pid>/stat.
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

// statusMiB reads a memory field (VmRSS, VmHWM) of pid in MiB.
func statusMiB(pid int, field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func peakRSS(pid int) float64 { return statusMiB(pid, "VmHWM") }

// sampleRSS samples VmRSS every 500 ms until the returned func is called.
func sampleRSS(pid int) func() []float64 {
	return sample(500*time.Millisecond, func() float64 { return statusMiB(pid, "VmRSS") })
}

// sample calls f every period until the returned func is called, which
// returns the values.
func sample(period time.Duration, f func() float64) func() []float64 {
	done := make(chan struct{})
	out := make(chan []float64)
	go func() {
		var xs []float64
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				xs = append(xs, f())
			case <-done:
				out <- xs
				return
			}
		}
	}()
	return func() []float64 { close(done); return <-out }
}

// load1 is the 1-minute load average.
func load1() float64 {
	var v float64
	fmt.Sscanf(cluster.LoadAverage(" "), "%g", &v)
	return v
}
