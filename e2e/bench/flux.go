package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-ml/tether/e2e/cluster"
)

const fluxNamespace = "bench-flux"

var (
	gitRepositories = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	kustomizations  = schema.GroupVersionResource{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"}
)

// fluxBench runs Flux's source-controller and kustomize-controller on a
// control plane of their own, stopped before tether's phases start, so
// neither tool shares the API server with the other's objects.
type fluxBench struct {
	b     *bench
	c     *cluster.Cluster
	cs    kubernetes.Interface
	dyn   dynamic.Interface
	bin   string
	procs []*fluxProc
	start time.Time
}

// fluxPhase measures Flux on the repository: cold apply, steady state, drift
// revert, push to applied and memory, as the tether phases do.
func (b *bench) fluxPhase(ctx context.Context, repo string) error {
	bin, err := buildFlux(ctx, os.Stderr)
	if err != nil {
		return err
	}
	c, err := b.ownControlPlane(ctx)
	if err != nil {
		return err
	}
	defer c.Stop()
	f := &fluxBench{b: b, c: c, cs: kubernetes.NewForConfigOrDie(c.Config), dyn: dynamic.NewForConfigOrDie(c.Config), bin: bin}
	defer f.stop()
	steps := []func(context.Context, string) error{f.setup, f.coldApply, f.settle}
	if b.o.steady > 0 {
		steps = append(steps, f.steadyState)
	}
	if b.o.fluxTrials > 0 {
		steps = append(steps, f.reverts)
	}
	if b.o.pushes > 0 {
		steps = append(steps, f.pushes)
	}
	steps = append(steps, f.memory)
	if err := runSteps(ctx, repo, steps); err != nil {
		return fmt.Errorf("flux: %w", err)
	}
	return nil
}

func (f *fluxBench) stop() {
	for i := len(f.procs) - 1; i >= 0; i-- {
		f.procs[i].stop()
	}
	f.procs = nil
}

// setup creates the namespaces, Flux's CRDs, the GitRepository and one
// Kustomization per model, before the controllers start.
func (f *fluxBench) setup(ctx context.Context, _ string) error {
	for _, ns := range []string{fluxNamespace, "flux-system"} {
		if _, err := f.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	kubectl := filepath.Join(f.c.BinDir, "kubectl")
	for _, args := range [][]string{
		{"apply", "--server-side", "-f", filepath.Join(f.bin, "crds")},
		{"wait", "--for", "condition=Established", "crd", "--all", "--timeout", "60s"},
	} {
		if out, err := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", f.c.Kubeconfig}, args...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("kubectl %v: %v\n%s", args, err, out)
		}
	}
	if _, err := f.dyn.Resource(gitRepositories).Namespace(fluxNamespace).Create(ctx, f.gitRepository(), metav1.CreateOptions{}); err != nil {
		return err
	}
	return f.createKustomizations(ctx)
}

func (f *fluxBench) gitRepository() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "models", "namespace": fluxNamespace},
		"spec": map[string]any{
			"interval": f.b.o.interval.String(),
			"url":      f.b.git.URL,
			"ref":      map[string]any{"branch": "main"},
			"ignore":   "/*\n!/flux/\n", // the artifact holds the plain manifests only
		},
	}}
}

// createKustomizations creates one Kustomization per model, 16 at a time.
func (f *fluxBench) createKustomizations(ctx context.Context) error {
	names := make(chan string)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for name := range names {
				if _, err := f.dyn.Resource(kustomizations).Namespace(fluxNamespace).Create(ctx, f.kustomization(name), metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range f.b.o.models {
		names <- modelName(i)
	}
	close(names)
	wg.Wait()
	close(errs)
	return <-errs
}

// kustomization applies flux/<model> with pruning, at tether's interval,
// without waiting for health (tether does not wait either).
func (f *fluxBench) kustomization(name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
		"metadata": map[string]any{"name": name, "namespace": fluxNamespace},
		"spec": map[string]any{
			"interval":  f.b.o.interval.String(),
			"path":      "./flux/" + name,
			"prune":     true,
			"force":     false,
			"wait":      false,
			"sourceRef": map[string]any{"kind": "GitRepository", "name": "models"},
		},
	}}
}

// coldApply starts the controllers, with the GitRepository and the
// Kustomizations in place, and times until every object exists with the
// rendered image: the same criterion as tether's.
func (f *fluxBench) coldApply(ctx context.Context, repo string) error {
	objs, err := f.b.render(repo, fluxNamespace)
	if err != nil {
		return err
	}
	w := watchObjects(ctx, f.cs, fluxNamespace, objs)
	f.start = time.Now()
	f.procs, err = startFlux(fluxSettings{bin: f.bin, work: f.b.work, kubeconfig: f.c.Kubeconfig, concurrent: f.b.o.fluxConcurrent})
	if err != nil {
		return err
	}
	seenAll, err := w.wait(30 * time.Minute)
	if err != nil {
		return err
	}
	wall := seenAll.Sub(f.start)
	req, err := fluxRequests(f.procs)
	if err != nil {
		return err
	}
	objects := len(objs)
	fmt.Printf("## flux: cold apply of %d objects (source-controller and kustomize-controller %s, --concurrent=%d)\n", objects, fluxVersion, f.b.o.fluxConcurrent)
	fmt.Printf("flux (start -> every object seen): %6.1f s wall, %5d requests, %.2f requests/object  %v\n",
		wall.Seconds(), total(req), float64(total(req))/float64(objects), req)
	f.b.fig.flux.coldWall, f.b.fig.flux.coldRequests = wall, total(req)
	return nil
}

// settle waits until every Kustomization applied the revision once, so the
// steady state does not measure the tail of the cold apply. (Not "every one
// Ready at once": a Kustomization being reconciled is Ready=Unknown, and a
// saturated kustomize-controller always has --concurrent of them in flight.)
func (f *fluxBench) settle(ctx context.Context, _ string) error {
	deadline := time.Now().Add(20 * time.Minute)
	for time.Now().Before(deadline) {
		list, err := f.dyn.Resource(kustomizations).Namespace(fluxNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		applied := 0
		for _, k := range list.Items {
			if rev, _, _ := unstructured.NestedString(k.Object, "status", "lastAppliedRevision"); rev != "" {
				applied++
			}
		}
		if applied == f.b.o.models {
			fmt.Printf("every Kustomization applied the revision %.1f s after the start\n\n", time.Since(f.start).Seconds())
			return nil
		}
		time.Sleep(2 * time.Second)
	}
	return fmt.Errorf("not every Kustomization applied the revision within 20 min")
}
