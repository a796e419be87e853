package tetherproc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Build compiles github.com/tether-ml/tether/cmd/tether into a new
// temporary directory as make build does (static, CGO_ENABLED=0: the binary
// users run) and returns its path and a func that removes it. The build's
// output goes to stderr.
func Build() (string, func(), error) {
	dir, err := os.MkdirTemp("", "tether-bin-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, "tether")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/tether-ml/tether/cmd/tether")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := cmd.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build tether: %w", err)
	}
	return bin, cleanup, nil
}

// Process is a running tether daemon.
type Process struct {
	Cmd  *exec.Cmd
	Addr string // the listen address it logged at start

	exited chan struct{} // closed once the process ended and its log was read
	mu     sync.Mutex
	lines  []Line
	raw    bytes.Buffer
}

// Line is one JSON log line and when it arrived.
type Line struct {
	At     time.Time
	Fields map[string]any
}

// Start runs bin with args, which must make it log JSON to stderr
// (--log-format json), and waits until it logged "tether started". It fails
// if the process exits first or timeout passes, and then kills it.
func Start(bin string, args []string, timeout time.Duration) (*Process, error) {
	p := &Process{Cmd: exec.Command(bin, args...), exited: make(chan struct{})}
	stderr, err := p.Cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.Cmd.Start(); err != nil {
		return nil, err
	}
	started := make(chan string, 1)
	go func() {
		p.read(stderr, started)
		_ = p.Cmd.Wait()
		close(p.exited)
	}()
	select {
	case p.Addr = <-started:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("tether exited at start:\n%s", p.Logs())
	case <-time.After(timeout):
		_ = p.Kill()
		return nil, fmt.Errorf("tether did not start within %s:\n%s", timeout, p.Logs())
	}
}

func (p *Process) read(r io.Reader, started chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		var fields map[string]any
		_ = json.Unmarshal(sc.Bytes(), &fields)
		p.mu.Lock()
		p.raw.Write(sc.Bytes())
		p.raw.WriteByte('\n')
		if fields != nil {
			p.lines = append(p.lines, Line{At: time.Now(), Fields: fields})
		}
		p.mu.Unlock()
		if fields["msg"] == "tether started" {
			started <- fmt.Sprint(fields["listen"])
		}
	}
}

// Running reports whether the process has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Wait waits until the process ended and returns how it ended: nil for exit
// code 0.
func (p *Process) Wait() error {
	<-p.exited
	if st := p.Cmd.ProcessState; st != nil && !st.Success() {
		return fmt.Errorf("tether ended: %s", st)
	}
	return nil
}

// Kill ends the process with SIGKILL, as an OOM kill or a lost node would,
// and waits for it.
func (p *Process) Kill() error {
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil && p.Running() {
		return err
	}
	<-p.exited
	return nil
}

// Stop sends SIGTERM and waits up to grace; a process still running then is
// killed and Stop says so. Stopping an ended process does nothing.
func (p *Process) Stop(grace time.Duration) error {
	if !p.Running() {
		return nil
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
		_ = p.Kill()
		return fmt.Errorf("tether did not stop within %s of SIGTERM", grace)
	}
}

// Logs is everything the process wrote to stderr so far.
func (p *Process) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// Mark is the number of JSON log lines so far; Find looks after it.
func (p *Process) Mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// Find returns the JSON log lines after the first after ones whose msg is
// msg ("" for any) and whose other keys print as the values given.
func (p *Process) Find(after int, msg string, match map[string]string) []Line {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Line
	for _, l := range p.lines[min(after, len(p.lines)):] {
		if (msg == "" || l.Fields["msg"] == msg) && matches(l.Fields, match) {
			out = append(out, l)
		}
	}
	return out
}

func matches(fields map[string]any, match map[string]string) bool {
	for k, v := range match {
		if fmt.Sprint(fields[k]) != v {
			return false
		}
	}
	return true
}

// Get fetches path from the daemon's listen address and returns the status
// code and body.
func (p *Process) Get(path string) (int, []byte, error) {
	resp, err := http.Get("http://" + p.Addr + path)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}
