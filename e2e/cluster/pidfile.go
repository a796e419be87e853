package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pidFileName is the file in a state dir listing the processes of its
// cluster, one "name pid starttime exe" line each, in start order.
const pidFileName = "pids"

func writePIDs(dir string, procs []*proc) error {
	var b strings.Builder
	for _, p := range procs {
		fmt.Fprintf(&b, "%s %d %d %s\n", p.name, p.pid, p.start, p.exe)
	}
	tmp := filepath.Join(dir, pidFileName+".tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dir, pidFileName))
}

// readPIDs parses dir's pid file; a missing file is no processes.
func readPIDs(dir string) ([]*proc, error) {
	data, err := os.ReadFile(filepath.Join(dir, pidFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pid file: %w", err)
	}
	var procs []*proc
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("pid file: malformed line %q", line)
		}
		pid, err1 := strconv.Atoi(f[1])
		start, err2 := strconv.ParseUint(f[2], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("pid file: line %q: %w", line, err)
		}
		procs = append(procs, &proc{name: f[0], pid: pid, start: start, exe: f[3]})
	}
	return procs, nil
}

// Running reports whether a process recorded in dir's pid file is still the
// process that was started there.
func Running(dir string) (bool, error) {
	procs, err := readPIDs(dir)
	if err != nil {
		return false, err
	}
	for _, p := range procs {
		if p.alive() {
			return true, nil
		}
	}
	return false, nil
}

// Down stops the cluster recorded in dir's pid file, typically one started
// with Options.Detach by another program. It signals only processes whose PID,
// start time and executable still match the record, newest first, then
// removes the pid file. The state dir itself is kept.
func Down(dir string) error {
	procs, err := readPIDs(dir)
	if err != nil {
		return err
	}
	if err := stopAll(procs); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, pidFileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

// stopAll stops procs in reverse start order and joins the failures.
func stopAll(procs []*proc) error {
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		errs = append(errs, procs[i].stop(5*time.Second))
	}
	return errors.Join(errs...)
}
