package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// steadyState measures both controllers with no commit and no drift: API
// requests by method (client-go's own count), CPU and RSS.
func (f *fluxBench) steadyState(context.Context, string) error {
	time.Sleep(5 * time.Second)
	before, err := fluxRequests(f.procs)
	if err != nil {
		return err
	}
	var cpu0 time.Duration
	var stops []func() []float64
	for _, p := range f.procs {
		cpu0 += cpuTime(p.pid())
		stops = append(stops, sampleRSS(p.pid()))
	}
	time.Sleep(f.b.o.steady)
	var rss float64
	var each []string
	for i, stop := range stops {
		m := median(stop())
		rss += m
		each = append(each, fmt.Sprintf("%s %.1f MiB", f.procs[i].name, m))
	}
	after, err := fluxRequests(f.procs)
	if err != nil {
		return err
	}
	var cpu time.Duration
	for _, p := range f.procs {
		cpu += cpuTime(p.pid())
	}
	cpu -= cpu0
	intervals := f.b.o.steady.Seconds() / f.b.o.interval.Seconds()
	diff := map[string]int{}
	for m, n := range after {
		if d := n - before[m]; d > 0 {
			diff[m] = d
		}
	}
	perInterval := float64(total(diff)) / intervals
	fmt.Printf("## flux: steady state: %s, no commit, no drift (interval %s)\n", f.b.o.steady, f.b.o.interval)
	fmt.Printf("API requests by method: %v (%.1f per interval, %.2f per object)\n", diff, perInterval, perInterval/float64(4*f.b.o.models))
	fmt.Printf("CPU: %.0f ms per interval (%.1f ms/s)\n", cpu.Seconds()*1000/intervals, cpu.Seconds()*1000/f.b.o.steady.Seconds())
	fmt.Printf("RSS during steady state: median %.1f MiB (%v)\n\n", rss, each)
	fig := &f.b.fig.flux
	fig.noopRequests, fig.noopCPU, fig.rssSteady, fig.noopMeasured = perInterval, cpu.Seconds()*1000/intervals, rss, true
	return nil
}

// reverts drifts fluxTrials random Deployments at once: Flux corrects drift
// only when a Kustomization's interval comes round, and each Kustomization
// has its own timer, so changing them together measures the same thing as one
// at a time, in one interval instead of many.
func (f *fluxBench) reverts(ctx context.Context, _ string) error {
	w := watchDeployments(ctx, f.cs, fluxNamespace)
	n := min(f.b.o.fluxTrials, f.b.o.models)
	picks := rand.Perm(f.b.o.models)[:n]
	lat := make([]float64, n)
	errs := make([]error, n)
	timeout := f.timeout()
	var wg sync.WaitGroup
	for j, i := range picks {
		wg.Go(func() {
			d, err := drift(ctx, f.cs, fluxNamespace, w, i, 300000+j, timeout)
			lat[j], errs[j] = ms(d), err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Printf("## flux: drift revert latency, %d random Deployments changed at once (interval %s)\n", n, f.b.o.interval)
	fmt.Printf("p50 %.1f ms, p99 %.1f ms, max %.1f ms\n\n", percentile(lat, 50), percentile(lat, 99), percentile(lat, 100))
	fig := &f.b.fig.flux
	fig.revertP50, fig.revertP99, fig.revertMax = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
	return nil
}

// pushes commits a change to one model's serving env at a time and asks
// source-controller to fetch at once, as Flux's notification-controller does
// on a push webhook (its Receiver sets this annotation on the GitRepository).
func (f *fluxBench) pushes(ctx context.Context, repo string) error {
	w := watchDeployments(ctx, f.cs, fluxNamespace)
	lat, err := f.b.pushTrials(w, repo, f.timeout(), func() error {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":%q}}}`, time.Now().Format(time.RFC3339Nano))
		_, err := f.dyn.Resource(gitRepositories).Namespace(fluxNamespace).Patch(ctx, "models", types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("## flux: push -> applied, %d commits (commit -> requestedAt annotation -> watch sees the change)\n", len(lat))
	fmt.Printf("p50 %.1f ms, max %.1f ms; each: %s\n\n", percentile(lat, 50), percentile(lat, 100), joinMs(lat))
	f.b.fig.flux.pushP50, f.b.fig.flux.pushMax = percentile(lat, 50), percentile(lat, 100)
	return nil
}

// timeout bounds a drift revert or a push: two intervals, and, as every
// Kustomization of the GitRepository is queued when its artifact changes, a
// kustomize-controller that cannot keep up with the interval (1000 models on
// two cores at 1m) may take a whole round of them first, which took about as
// long as the cold apply.
func (f *fluxBench) timeout() time.Duration {
	return 2*f.b.o.interval + f.b.fig.flux.coldWall + time.Minute
}

func (f *fluxBench) memory(context.Context, string) error {
	fmt.Printf("## flux: memory with %d models (%d objects)\n", f.b.o.models, 4*f.b.o.models)
	var peak float64
	for _, p := range f.procs {
		hwm := peakRSS(p.pid())
		peak += hwm
		fmt.Printf("%s: peak (VmHWM) %.1f MiB, now %.1f MiB\n", p.name, hwm, statusMiB(p.pid(), "VmRSS"))
	}
	fmt.Printf("both: peak %.1f MiB (the sum of each one's peak)\n\n", peak)
	f.b.fig.flux.rssPeak = peak
	return nil
}
