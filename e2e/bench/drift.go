package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

const benchNamespace = "bench-tether"

// steadyState watches the daemon with no commit and no drift: API requests by
// verb and CPU time per poll interval.
func (b *bench) steadyState(ctx context.Context, _ string) error {
	pid := b.daemon.cmd.Process.Pid
	time.Sleep(5 * time.Second) // let controllers settle after the cold apply
	before, err := b.daemon.requests()
	if err != nil {
		return err
	}
	cpu0 := cpuTime(pid)
	stopRSS := sampleRSS(pid)
	time.Sleep(b.o.steady)
	rss := stopRSS()
	after, err := b.daemon.requests()
	if err != nil {
		return err
	}
	cpu := cpuTime(pid) - cpu0
	intervals := b.o.steady.Seconds() / b.o.interval.Seconds()
	diff := map[string]int{}
	for verb, n := range after {
		if d := n - before[verb]; d > 0 {
			diff[verb] = d
		}
	}
	fmt.Printf("## steady state: %s, no commit, no drift (interval %s)\n", b.o.steady, b.o.interval)
	fmt.Printf("API requests by verb: %v (%.2f per interval)\n", diff, float64(total(diff))/intervals)
	fmt.Printf("CPU: %.0f ms per interval (%.1f ms/s)\n", cpu.Seconds()*1000/intervals, cpu.Seconds()*1000/b.o.steady.Seconds())
	fmt.Printf("RSS during steady state: median %.1f MiB\n\n", median(rss))
	b.steadyRSS = median(rss)
	b.fig.tether.noopRequests, b.fig.tether.noopCPU, b.fig.tether.rssSteady = float64(total(diff))/intervals, cpu.Seconds()*1000/intervals, median(rss)
	b.fig.tether.noopMeasured = true
	return nil
}

// watchDeployments keeps a cache of the bench Deployments; changed is signalled
// on every update.
type watched struct {
	informer cache.SharedIndexInformer
	mu       sync.Mutex
	waiters  map[string]func(*appsv1.Deployment) bool
	done     map[string]chan time.Time
}

func (b *bench) watch(ctx context.Context) *watched {
	return watchDeployments(ctx, b.cs, benchNamespace)
}

func watchDeployments(ctx context.Context, cs kubernetes.Interface, ns string) *watched {
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	w := &watched{informer: f.Apps().V1().Deployments().Informer(), waiters: map[string]func(*appsv1.Deployment) bool{}, done: map[string]chan time.Time{}}
	_, _ = w.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, obj any) { w.check(obj.(*appsv1.Deployment)) }})
	f.Start(ctx.Done())
	cache.WaitForCacheSync(ctx.Done(), w.informer.HasSynced)
	return w
}

func (w *watched) check(d *appsv1.Deployment) {
	seen := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if cond, ok := w.waiters[d.Name]; ok && cond(d) {
		w.done[d.Name] <- seen
		delete(w.waiters, d.Name)
	}
}

// expect registers a condition before the change is made, so no event is missed.
func (w *watched) expect(name string, cond func(*appsv1.Deployment) bool) chan time.Time {
	ch := make(chan time.Time, 1)
	w.mu.Lock()
	w.waiters[name], w.done[name] = cond, ch
	w.mu.Unlock()
	return ch
}

// revert changes one Deployment's image out of band and returns the time from
// the patch's response until the watch sees tether's image again.
func (b *bench) revert(ctx context.Context, w *watched, i int, trial int) (time.Duration, error) {
	return drift(ctx, b.cs, benchNamespace, w, i, trial, 10*time.Second)
}

// drift patches the image of model i's Deployment in ns, as another field
// manager, and waits up to timeout until w sees the rendered image again.
func drift(ctx context.Context, cs kubernetes.Interface, ns string, w *watched, i, trial int, timeout time.Duration) (time.Duration, error) {
	name := modelName(i)
	want := fmt.Sprintf("registry.example.com/m%04d@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", i)
	restored := w.expect(name, func(d *appsv1.Deployment) bool { return d.Spec.Template.Spec.Containers[0].Image == want })
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"serve","image":"drift:%d"}]}}}}`, trial)
	_, err := cs.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "bench-intruder"})
	if err != nil {
		return 0, err
	}
	patched := time.Now()
	select {
	case seen := <-restored:
		return seen.Sub(patched), nil
	case <-time.After(timeout):
		return 0, fmt.Errorf("deployment %s/%s not reverted within %s", ns, name, timeout)
	}
}

func (b *bench) reverts(ctx context.Context, _ string) error {
	w := b.watch(ctx)
	var lat []float64
	for trial := range b.o.trials {
		d, err := b.revert(ctx, w, rand.N(b.o.models), trial)
		if err != nil {
			return err
		}
		lat = append(lat, ms(d))
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("## drift revert latency, %d trials on random Deployments (patch response -> watch sees the desired image)\n", b.o.trials)
	fmt.Printf("p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", percentile(lat, 50), percentile(lat, 99), percentile(lat, 100))
	b.fig.tether.revertP50, b.fig.tether.revertP99, b.fig.tether.revertMax = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
	return b.repeatedReverts(ctx, w, lat)
}

// repeatedReverts drifts one Deployment again and again, b.o.repeatGap apart,
// and prints its revert latency next to the random-object figure: a revert
// delay that grows with each drift of the same object (issue 18) shows here.
func (b *bench) repeatedReverts(ctx context.Context, w *watched, random []float64) error {
	if b.o.repeat == 0 {
		fmt.Println()
		return nil
	}
	i := rand.N(b.o.models)
	var lat []float64
	for trial := range b.o.repeat {
		if trial > 0 {
			time.Sleep(b.o.repeatGap)
		}
		d, err := b.revert(ctx, w, i, 200000+trial)
		if err != nil {
			return err
		}
		lat = append(lat, ms(d))
	}
	fmt.Printf("the same Deployment drifted %d times, %s apart: p50 %.1f ms, p99 %.1f ms, max %.1f ms (random objects: p50 %.1f ms, max %.1f ms)\n",
		b.o.repeat, b.o.repeatGap, percentile(lat, 50), percentile(lat, 99), percentile(lat, 100), percentile(random, 50), percentile(random, 100))
	fmt.Printf("each drift in turn, ms: %s\n\n", joinMs(lat))
	return nil
}

func joinMs(xs []float64) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strings.Join(out, " ")
}

// stormPhase changes b.o.storm Deployments at once, b.o.storms times, 15 s
// apart so the controllers finish each storm's rollouts, and reports every
// storm and the median of their p99s.
func (b *bench) stormPhase(ctx context.Context, _ string) error {
	w := b.watch(ctx)
	n := min(b.o.storm, b.o.models)
	fmt.Printf("## storm: %d Deployments changed at once, %d times\n", n, b.o.storms)
	var p99s, all []float64
	for s := range b.o.storms {
		if s > 0 {
			time.Sleep(15 * time.Second)
		}
		picks := rand.Perm(b.o.models)[:n]
		lat := make([]float64, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for j, i := range picks {
			wg.Go(func() {
				d, err := b.revert(ctx, w, i, 100000*(s+1)+j)
				lat[j], errs[j] = ms(d), err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		fmt.Printf("storm %d: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", s+1, percentile(lat, 50), percentile(lat, 99), percentile(lat, 100))
		p99s, all = append(p99s, percentile(lat, 99)), append(all, lat...)
	}
	fmt.Printf("median of the storms' p99: %.1f ms; all %d changes: p50 %.1f ms, p99 %.1f ms\n\n", median(p99s), len(all), percentile(all, 50), percentile(all, 99))
	return nil
}

func (b *bench) memory(context.Context, string) error {
	peak := peakRSS(b.daemon.cmd.Process.Pid)
	b.fig.tether.rssPeak = peak
	fmt.Printf("## memory of tether run with %d models (%d objects)\n", b.o.models, 4*b.o.models)
	if b.steadyRSS > 0 {
		fmt.Printf("RSS steady %.1f MiB, ", b.steadyRSS)
	}
	fmt.Printf("peak (VmHWM) %.1f MiB, now %.1f MiB\n", peak, statusMiB(b.daemon.cmd.Process.Pid, "VmRSS"))
	heap, err := b.daemon.metric("go_memstats_heap_alloc_bytes")
	if err != nil {
		return err
	}
	fmt.Printf("Go heap in use now: %.1f MiB\n", heap/(1<<20))
	return b.heapProfile()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func percentile(xs []float64, p float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

func median(xs []float64) float64 { return percentile(xs, 50) }
