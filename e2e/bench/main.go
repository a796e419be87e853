package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/tether-ml/tether/e2e/cluster"
)

type options struct {
	models        int
	steady        time.Duration
	interval      time.Duration
	trials, storm int
	repeat        int
	repeatGap     time.Duration
	storms        int
	kubectl       bool
	controllers   bool
	pushes        int
	pprof         string

	flux           bool
	fluxConcurrent int
	fluxTrials     int
}

func main() {
	var o options
	flag.IntVar(&o.models, "models", 100, "generated models (4 objects each)")
	flag.DurationVar(&o.steady, "steady", time.Minute, "steady-state observation window")
	flag.DurationVar(&o.interval, "interval", time.Minute, "tether's poll interval during the run")
	flag.IntVar(&o.trials, "trials", 200, "drift revert trials, one object at a time")
	flag.IntVar(&o.repeat, "repeat", 10, "drifts of one Deployment, -repeat-gap apart, after the random trials (0: none)")
	flag.DurationVar(&o.repeatGap, "repeat-gap", 2*time.Second, "time between the drifts of -repeat")
	flag.IntVar(&o.storm, "storm", 100, "objects changed at once in the storm")
	flag.IntVar(&o.storms, "storms", 5, "storms, 15 s apart")
	flag.BoolVar(&o.kubectl, "kubectl", true, "also apply the same objects with kubectl --server-side, for comparison")
	flag.BoolVar(&o.controllers, "controllers", true, "run the controllers, scheduler and kwok; false measures the cold apply against etcd and the API server alone (use with -steady 0 -trials 0 -storm 0)")
	flag.IntVar(&o.pushes, "pushes", 5, "push -> applied trials: a commit to one model, then a webhook (tether) or a reconcile request (Flux)")
	flag.StringVar(&o.pprof, "pprof", "", "write a heap profile of the daemon (after a forced GC) to `FILE` at the end, and its Go memory statistics")
	flag.BoolVar(&o.flux, "flux", false, "also run Flux's source-controller and kustomize-controller on the same repository, on a control plane of their own")
	flag.IntVar(&o.fluxConcurrent, "flux-concurrent", 32, "kustomize-controller --concurrent (tether applies up to 32 models at once)")
	flag.IntVar(&o.fluxTrials, "flux-trials", 20, "Flux drift revert trials, all at once (Flux reverts only at its interval)")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "tether-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	tether := filepath.Join(work, "tether")
	build := exec.Command("go", "build", "-o", tether, "./cmd/tether")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build: the binary users run
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build tether: %v\n%s", err, out)
	}
	c, err := cluster.Start(ctx, cluster.Options{Log: os.Stderr})
	if err != nil {
		return err
	}
	defer c.Stop()
	if !o.controllers {
		if err := c.StopControllers(); err != nil {
			return err
		}
	}
	fmt.Printf("machine: %d CPUs, load average %s at %s; cluster %s; %d models x 4 objects\n\n",
		numCPU(), cluster.LoadAverage(" "), time.Now().UTC().Format(time.RFC3339), cluster.KubeVersion, o.models)
	b := &bench{o: o, c: c, work: work, tether: tether}
	return b.all(ctx)
}
