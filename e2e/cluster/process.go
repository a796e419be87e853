package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one control-plane process. A proc read back from a pid file has no
// done channel, so liveness then comes from /proc.
type proc struct {
	name  string
	pid   int
	start uint64        // starttime from /proc/PID/stat; tells a reused PID apart
	exe   string        // argv[0], an absolute path into the bin dir
	log   string        // file receiving stdout and stderr
	done  chan struct{} // closed when our child exits; nil if not our child
}

// startProc starts exe with args, stdout and stderr appended to logs/NAME.log
// under dir. A detached process gets its own session and no parent-death
// signal so it outlives the caller; otherwise it gets its own process group
// and SIGKILL when the starting thread dies, so a crashed test leaks nothing
// (best effort: see golang/go#27505 on Pdeathsig and thread exit).
func startProc(dir, name, exe string, args, env []string, detach bool) (*proc, error) {
	logPath := filepath.Join(dir, "logs", name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer logFile.Close()
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start: %w", name, err)
	}
	p := &proc{name: name, pid: cmd.Process.Pid, exe: exe, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	p.start, _ = startTime(p.pid)
	return p, nil
}

// alive reports whether the process is still the one started and not a zombie.
func (p *proc) alive() bool {
	if p.done != nil {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	state, start, err := procStat(p.pid)
	return err == nil && start == p.start && state != "Z" && argv0(p.pid) == p.exe
}

// stop sends SIGTERM, then SIGKILL if the process outlives grace.
func (p *proc) stop(grace time.Duration) error {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if !p.alive() {
			return nil
		}
		if err := syscall.Kill(p.pid, sig); err != nil && err != syscall.ESRCH {
			return fmt.Errorf("%s (pid %d): %w", p.name, p.pid, err)
		}
		if p.waitExit(grace) {
			return nil
		}
	}
	return fmt.Errorf("%s (pid %d): still running after SIGKILL", p.name, p.pid)
}

func (p *proc) waitExit(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for p.alive() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// diedError describes a process that exited, with the end of its log.
func (p *proc) diedError() error {
	return fmt.Errorf("%s exited; end of %s:\n%s", p.name, p.log, tail(p.log, 20))
}

// tail returns up to n last lines of the file at path.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// procStat reads the state and start time of pid from /proc/PID/stat.
func procStat(pid int) (state string, start uint64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, err
	}
	// The command name in field 2 may hold spaces; fields resume after its ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return "", 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return "", 0, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	start, err = strconv.ParseUint(fields[19], 10, 64) // field 22, starttime
	return fields[0], start, err
}

func startTime(pid int) (uint64, error) {
	_, start, err := procStat(pid)
	return start, err
}

// argv0 is the first word of /proc/PID/cmdline, or "" if unreadable.
func argv0(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	first, _, _ := bytes.Cut(data, []byte{0})
	return string(first)
}
