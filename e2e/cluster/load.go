package cluster

import (
	"os"
	"strings"
)

// LoadAverage is the machine's 1, 5 and 15-minute load averages from
// /proc/loadavg, joined by sep, or "unknown": the context the benchmarks'
// and the fault suite's figures are printed with.
func LoadAverage(sep string) string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], sep)
}
