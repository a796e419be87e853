package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// daemon is a running tether, on this host or in a container, whose log
// lines are kept and watched.
type daemon struct {
	cmd *exec.Cmd

	mu       sync.Mutex
	raw      bytes.Buffer
	lines    []string // each line's message and attributes, flattened
	watchers []*logWatch
	addr     chan string // the listen address, once logged
	done     chan struct{}
}

// logWatch fires once when a log line contains every one of its substrings.
type logWatch struct {
	subs  []string
	fired chan string // the line
	once  sync.Once
}

// startDaemon starts cmd (tether run with --log-format=json, or a container
// running it) and returns once tether logged its listen address.
func startDaemon(t *testing.T, cmd *exec.Cmd) *daemon {
	t.Helper()
	d := &daemon{cmd: cmd, addr: make(chan string, 1), done: make(chan struct{})}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	go d.read(stderr)
	t.Cleanup(func() { d.stop(t) })
	return d
}

// listenAddr waits for the address tether listens on.
func (d *daemon) listenAddr(t *testing.T, timeout time.Duration) string {
	t.Helper()
	select {
	case a := <-d.addr:
		return a
	case <-d.done:
	case <-time.After(timeout):
	}
	t.Fatalf("tether did not start within %s:\n%s", timeout, d.logs())
	return ""
}

func (d *daemon) read(r io.Reader) {
	defer close(d.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := flatten(sc.Bytes())
		d.mu.Lock()
		d.raw.Write(sc.Bytes())
		d.raw.WriteByte('\n')
		d.lines = append(d.lines, line)
		watchers := slices.Clone(d.watchers)
		d.mu.Unlock()
		for _, w := range watchers {
			w.check(line)
		}
		if strings.Contains(line, "msg=tether started") {
			if i := strings.Index(line, " listen="); i >= 0 {
				d.addr <- strings.Fields(line[i+len(" listen="):])[0]
			}
		}
	}
}

// flatten turns a JSON log line into "msg=... key=value ..." with strings
// unquoted, so error texts can be matched as the API server wrote them.
func flatten(raw []byte) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return string(raw)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "msg=%v", m["msg"])
	for _, k := range keys {
		if k != "msg" {
			fmt.Fprintf(&b, " %s=%v", k, m[k])
		}
	}
	return b.String()
}

// watch fires when a line (already logged or still to come) holds every sub.
func (d *daemon) watch(subs ...string) *logWatch {
	w := &logWatch{subs: subs, fired: make(chan string, 1)}
	d.mu.Lock()
	d.watchers = append(d.watchers, w)
	past := slices.Clone(d.lines)
	d.mu.Unlock()
	for _, l := range past {
		w.check(l)
	}
	return w
}

func (w *logWatch) check(line string) {
	for _, s := range w.subs {
		if !strings.Contains(line, s) {
			return
		}
	}
	w.once.Do(func() { w.fired <- line })
}

// logged returns the first line logged so far that holds every sub.
func (d *daemon) logged(subs ...string) (string, bool) {
	select {
	case line := <-d.watch(subs...).fired:
		return line, true
	default:
		return "", false
	}
}

// grep returns the logged lines that contain sub.
func (d *daemon) grep(sub string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, l := range d.lines {
		if strings.Contains(strings.ToLower(l), strings.ToLower(sub)) {
			out = append(out, l)
		}
	}
	return out
}

// logs returns the last 40 lines logged.
func (d *daemon) logs() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	lines := strings.SplitAfter(d.raw.String(), "\n")
	if n := len(lines); n > 40 {
		lines = append([]string{fmt.Sprintf("[%d lines before]\n", n-40)}, lines[n-40:]...)
	}
	return strings.Join(lines, "")
}

// stop sends SIGTERM and waits (10 s, then SIGKILL) for the process to end.
func (d *daemon) stop(t *testing.T) {
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-exited
		t.Errorf("tether did not stop within 10s of SIGTERM")
	}
}
