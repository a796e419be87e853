package cluster

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progressEvery is how often a long build says it is still going.
const progressEvery = 30 * time.Second

// progress turns `go build -v` output into something a person watching a
// 20-minute build can follow: the go command's own messages pass through,
// package names are counted, and every progressEvery a line tells the
// elapsed time, how many packages were compiled and the latest one.
type progress struct {
	log   io.Writer
	what  string
	start time.Time
	stop  chan struct{}
	done  sync.WaitGroup

	mu       sync.Mutex
	partial  []byte
	packages int
	last     string
}

func startProgress(log io.Writer, what string) *progress {
	p := &progress{log: log, what: what, start: time.Now(), stop: make(chan struct{})}
	p.done.Go(p.tick)
	return p
}

func (p *progress) tick() {
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			fmt.Fprintf(p.log, "cluster: %s: %s elapsed, %d packages compiled, now %s\n",
				p.what, time.Since(p.start).Round(time.Second), p.packages, p.last)
			p.mu.Unlock()
		}
	}
}

// Write takes the go command's output, which may split lines anywhere.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		p.line(string(p.partial[:i]))
		p.partial = p.partial[i+1:]
	}
}

// line handles one line: a package path (go build -v) or a message.
func (p *progress) line(s string) {
	if s != "" && !strings.ContainsAny(s, " \t:") {
		p.packages++
		p.last = s
		return
	}
	fmt.Fprintln(p.log, s)
}

// finish stops the ticker and reports how long the step took.
func (p *progress) finish() time.Duration {
	close(p.stop)
	p.done.Wait()
	took := time.Since(p.start).Round(time.Second)
	fmt.Fprintf(p.log, "cluster: %s: done in %s (%d packages)\n", p.what, took, p.packages)
	return took
}
