package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// fluxProc is one Flux controller running as a process against the bench's
// control plane, outside the cluster as tether runs.
type fluxProc struct {
	name    string
	cmd     *exec.Cmd
	metrics string // host:port of its /metrics
	log     string // its log file
}

// fluxSettings are the settings both controllers get.
type fluxSettings struct {
	bin, work, kubeconfig string
	concurrent            int // kustomize-controller's --concurrent
}

// startFlux starts source-controller and then kustomize-controller.
func startFlux(s fluxSettings) ([]*fluxProc, error) {
	storageAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	storage := filepath.Join(s.work, "flux-storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, err
	}
	src, err := startFluxProc(s, "source-controller",
		"--storage-path="+storage, "--storage-addr="+storageAddr, "--storage-adv-addr="+storageAddr)
	if err != nil {
		return nil, err
	}
	kc, err := startFluxProc(s, "kustomize-controller", fmt.Sprintf("--concurrent=%d", s.concurrent), "--no-remote-bases=true")
	if err != nil {
		src.stop()
		return nil, err
	}
	return []*fluxProc{src, kc}, nil
}

func startFluxProc(s fluxSettings, name string, args ...string) (*fluxProc, error) {
	metrics, err := freeAddr()
	if err != nil {
		return nil, err
	}
	health, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &fluxProc{name: name, metrics: metrics, log: filepath.Join(s.work, name+".log")}
	out, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	// The client rates match tether's defaults (--kube-api-qps 200, burst 400).
	args = append(args, "--metrics-addr="+metrics, "--health-addr="+health, "--enable-leader-election=false",
		"--watch-all-namespaces=true", "--kube-api-qps=200", "--kube-api-burst=400", "--log-encoding=json", "--log-level=info")
	p.cmd = exec.Command(filepath.Join(s.bin, name), args...)
	p.cmd.Env = append(os.Environ(), "KUBECONFIG="+s.kubeconfig, "RUNTIME_NAMESPACE=flux-system")
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	if err := p.waitHealthy("http://"+health+"/readyz", 60*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *fluxProc) waitHealthy(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	data, _ := os.ReadFile(p.log)
	return fmt.Errorf("%s not ready within %s:\n%s", p.name, timeout, tail(string(data)))
}

// requests sums rest_client_requests_total, client-go's count of API
// requests, by method from the controller's /metrics.
func (p *fluxProc) requests() (map[string]int, error) {
	resp, err := http.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		labels, value, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "rest_client_requests_total{"), "} ")
		if !ok || labels == sc.Text() {
			continue
		}
		var n float64
		if _, err := fmt.Sscanf(value, "%g", &n); err != nil {
			continue
		}
		for _, l := range strings.Split(labels, ",") {
			if m, ok := strings.CutPrefix(l, "method="); ok {
				out[strings.Trim(m, `"`)] += int(n)
			}
		}
	}
	return out, sc.Err()
}

func (p *fluxProc) pid() int { return p.cmd.Process.Pid }

func (p *fluxProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// freeAddr is a free loopback host:port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// fluxRequests sums the requests of several controllers.
func fluxRequests(procs []*fluxProc) (map[string]int, error) {
	out := map[string]int{}
	for _, p := range procs {
		req, err := p.requests()
		if err != nil {
			return nil, fmt.Errorf("%s /metrics: %w", p.name, err)
		}
		for m, n := range req {
			out[m] += n
		}
	}
	return out, nil
}
