package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// pprofEnv is the daemon's environment for -pprof: TETHER_DEBUG_PPROF on a
// free loopback port (see cmd/tether/pprof.go).
func (b *bench) pprofEnv() ([]string, error) {
	if b.o.pprof == "" {
		return nil, nil
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	b.pprofAddr = addr
	return []string{"TETHER_DEBUG_PPROF=" + addr}, nil
}

// watchPeak keeps, in FILE.peak, the daemon's heap profile from when its heap
// in use was largest, sampled every 10 s until stop is called.
func (b *bench) watchPeak() (stop func()) {
	done := make(chan struct{})
	if b.o.pprof == "" {
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		var most float64
		for {
			select {
			case <-done:
				return
			case <-time.After(10 * time.Second):
			}
			if inuse, err := b.daemon.metric("go_memstats_heap_inuse_bytes"); err == nil && inuse > most {
				most = inuse
				_ = b.saveProfile(b.o.pprof+".peak", "")
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// saveProfile writes the daemon's heap profile to file; query "?gc=1" takes
// it after a garbage collection.
func (b *bench) saveProfile(file, query string) error {
	resp, err := http.Get("http://" + b.pprofAddr + "/debug/pprof/heap" + query)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// heapProfile writes the daemon's heap profile, taken after a GC, to
// b.o.pprof and prints where the Go runtime's memory is, from /metrics.
func (b *bench) heapProfile() error {
	if b.o.pprof == "" {
		return nil
	}
	if err := b.saveProfile(b.o.pprof, "?gc=1"); err != nil {
		return err
	}
	lines, err := b.daemon.metrics()
	if err != nil {
		return err
	}
	fmt.Printf("heap profile (after a GC): %s; go tool pprof -top -sample_index=inuse_space %s %s\n", b.o.pprof, b.tether, b.o.pprof)
	for _, l := range lines {
		for _, m := range []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes",
			"go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "go_memstats_next_gc_bytes"} {
			if v, ok := strings.CutPrefix(l, m+" "); ok {
				var n float64
				fmt.Sscanf(v, "%g", &n)
				fmt.Printf("%s %.1f MiB\n", m, n/(1<<20))
			}
		}
	}
	return nil
}
