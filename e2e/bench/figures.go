package main

import (
	"fmt"
	"time"

	"github.com/tether-ml/tether/e2e/cluster"
)

// toolFigures are one tool's results in a run; zero means not measured.
type toolFigures struct {
	coldWall                        time.Duration
	coldRequests                    int
	revertP50, revertP99, revertMax float64 // ms
	pushP50, pushMax                float64 // ms
	noopRequests                    float64 // API requests per no-op interval
	noopCPU                         float64 // ms of CPU per no-op interval
	noopMeasured                    bool
	rssSteady, rssPeak              float64 // MiB
}

type figures struct{ tether, kubectl, flux toolFigures }

// summary prints the run's figures side by side as Markdown tables, one per
// figure, with the ratio tether / Flux.
func (b *bench) summary() {
	t, k, f := b.fig.tether, b.fig.kubectl, b.fig.flux
	objects := 4 * b.o.models
	fmt.Printf("## summary: %d models (%d objects), interval %s; load average %s at %s\n",
		b.o.models, objects, b.o.interval, cluster.LoadAverage(" "), time.Now().UTC().Format(time.RFC3339))
	fmt.Printf("1-minute load average during the run (every 10 s): min %.2f, median %.2f, max %.2f\n\n",
		percentile(b.load, 0), median(b.load), percentile(b.load, 100))
	row := func(name, tv, kv, fv, ratio string) {
		fmt.Printf("| %s | %s | %s | %s | %s |\n", name, tv, kv, fv, ratio)
	}
	header := func(title string) {
		fmt.Printf("%s\n\n| | tether | kubectl | Flux | tether / Flux |\n|---|---|---|---|---|\n", title)
	}
	header(fmt.Sprintf("Cold apply of %d objects", objects))
	row("wall (s)", secs(t.coldWall), secs(k.coldWall), secs(f.coldWall), ratio(t.coldWall.Seconds(), f.coldWall.Seconds()))
	row("API requests", count(t.coldRequests), count(k.coldRequests), count(f.coldRequests), ratio(float64(t.coldRequests), float64(f.coldRequests)))
	header("\nDrift revert latency (ms)")
	row("p50", msec(t.revertP50), "does not revert", msec(f.revertP50), ratio(t.revertP50, f.revertP50))
	row("p99", msec(t.revertP99), "", msec(f.revertP99), ratio(t.revertP99, f.revertP99))
	row("max", msec(t.revertMax), "", msec(f.revertMax), ratio(t.revertMax, f.revertMax))
	header("\nPush -> applied (ms)")
	row("p50", msec(t.pushP50), "—", msec(f.pushP50), ratio(t.pushP50, f.pushP50))
	row("max", msec(t.pushMax), "", msec(f.pushMax), ratio(t.pushMax, f.pushMax))
	header("\nNo-op interval (no commit, no drift)")
	row("API requests per interval", numIf(t.noopMeasured, t.noopRequests), "—", numIf(f.noopMeasured, f.noopRequests), ratio(t.noopRequests, f.noopRequests))
	row("CPU per interval (ms)", numIf(t.noopMeasured, t.noopCPU), "—", numIf(f.noopMeasured, f.noopCPU), ratio(t.noopCPU, f.noopCPU))
	header("\nMemory (MiB; Flux: both controllers)")
	row("RSS, steady median", num(t.rssSteady), "—", num(f.rssSteady), ratio(t.rssSteady, f.rssSteady))
	row("peak RSS (VmHWM)", num(t.rssPeak), "—", num(f.rssPeak), ratio(t.rssPeak, f.rssPeak))
	fmt.Println()
}

func secs(d time.Duration) string { return num(d.Seconds()) }
func msec(v float64) string       { return num(v) }

func count(n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprint(n)
}

func num(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", v)
}

func numIf(measured bool, v float64) string {
	if !measured {
		return "—"
	}
	return fmt.Sprintf("%.1f", v)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "—"
	}
	if r := a / b; r < 0.01 {
		return fmt.Sprintf("1/%.0f", 1/r)
	}
	return fmt.Sprintf("%.2f", a/b)
}
