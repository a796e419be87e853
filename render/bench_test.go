package render

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/e2e/benchgen"
	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

// Benchmarks for docs/BENCHMARKS.md (## Rendering). They report figures and
// assert nothing about them:
//
//	go test ./render -run '^$' -bench . -benchtime 5x
//
// kubectl is /usr/bin/kubectl unless $KUBECTL names another.

var benchOpts = Options{DefaultNamespace: "ml", DefaultDrift: DriftRevert}

// BenchmarkModel renders single models of a generated repository one at a
// time, round robin, and reports per-model p50 and p99.
func BenchmarkModel(b *testing.B) {
	dir := b.TempDir()
	if err := benchgen.Repo(dir, 200, 2); err != nil {
		b.Fatal(err)
	}
	for _, kind := range []struct {
		name    string
		overlay bool
	}{{"plain", false}, {"overlay", true}} {
		b.Run(kind.name, func(b *testing.B) {
			var folders []string
			for i := range 200 {
				if (i%2 == 0) == kind.overlay {
					folders = append(folders, benchgen.Name(i))
				}
			}
			var times []time.Duration
			cpu := cpuTime()
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				u := LoadModel(dir, folders[i%len(folders)], benchOpts)
				times = append(times, time.Since(start))
				if u.Err != nil {
					b.Fatal(u.Err)
				}
			}
			reportPercentiles(b, "", times)
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(len(times)), "cpu-ms/op")
		})
	}
}

// BenchmarkModelKubectl runs `kubectl kustomize` on the exported tree of one
// overlay model at a time: the per-model cost of shelling out, for comparison.
func BenchmarkModelKubectl(b *testing.B) {
	kubectl := kubectlPath(b)
	dir, trees := b.TempDir(), b.TempDir()
	if err := benchgen.Repo(dir, 50, 1); err != nil {
		b.Fatal(err)
	}
	exportTrees(b, dir, trees, 50)
	var times []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		runKubectl(b, kubectl, filepath.Join(trees, ModelsDir, benchgen.Name(i%50)))
		times = append(times, time.Since(start))
	}
	reportPercentiles(b, "", times)
}

// BenchmarkRepository1000 renders a generated 1000-model repository end to end
// and, interleaved in the same run, builds the same rendered trees with
// `kubectl kustomize` (one root kustomization listing all 1000 models, so
// kubectl starts once). Each iteration times both; medians and their ratio
// are reported.
func BenchmarkRepository1000(b *testing.B) {
	for _, mix := range []struct {
		name  string
		every int
	}{{"overlays=all", 1}, {"overlays=10pct", 10}, {"overlays=none", 0}} {
		b.Run(mix.name, func(b *testing.B) {
			dir, trees := b.TempDir(), b.TempDir()
			if err := benchgen.Repo(dir, 1000, mix.every); err != nil {
				b.Fatal(err)
			}
			kubectl := ""
			if mix.every == 1 {
				kubectl = kubectlPath(b)
				exportTrees(b, dir, trees, 1000)
			}
			var tether, kube, tetherCPU []time.Duration
			for b.Loop() {
				start, cpu := time.Now(), cpuTime()
				res, err := Repository(dir, benchOpts)
				tether = append(tether, time.Since(start))
				tetherCPU = append(tetherCPU, cpuTime()-cpu)
				if err != nil || len(res.Units) != 1000 || res.Units[0].Err != nil {
					b.Fatalf("render: %v", err)
				}
				if kubectl != "" {
					start = time.Now()
					runKubectl(b, kubectl, trees)
					kube = append(kube, time.Since(start))
				}
			}
			b.ReportMetric(median(tether).Seconds(), "tether-s")
			b.ReportMetric(median(tetherCPU).Seconds(), "tether-cpu-s")
			if kubectl != "" {
				b.ReportMetric(median(kube).Seconds(), "kubectl-s")
				b.ReportMetric(float64(median(tether))/float64(median(kube)), "tether/kubectl")
			}
		})
	}
}

// BenchmarkIncremental1000 renders a generated 1000-model repository, every
// model with an overlay, from Git as the daemon does; then each iteration
// commits a change to one model, syncs, and times render.Incremental on the
// new revision and, in the same iteration, a full render of it. It reports
// the incremental render's p50 and p99, the full render's median, and the
// ratio of the medians.
//
//	go test ./render -run '^$' -bench Incremental1000 -benchtime 10x -timeout 30m
func BenchmarkIncremental1000(b *testing.B) {
	remote := gitrepo.New(b)
	if err := benchgen.Repo(remote.Dir, 1000, 1); err != nil {
		b.Fatal(err)
	}
	remote.Git("add", "-A")
	remote.Git("commit", "-qm", "models")
	repo, err := source.New(source.Options{URL: remote.Dir, WorkDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	inc := NewIncremental(benchOpts)
	if _, _, err := syncAndRender(b, repo, inc); err != nil {
		b.Fatal(err)
	}
	var incremental, full []time.Duration
	for i := 0; b.Loop(); i++ {
		remote.Commit(map[string]string{benchgen.ModelFile(i * 37 % 1000): benchgen.Model(i*37%1000, i+2)})
		dir, took, err := syncAndRender(b, repo, inc)
		if err != nil {
			b.Fatal(err)
		}
		incremental = append(incremental, took)
		start := time.Now()
		if _, err := Repository(dir, benchOpts); err != nil {
			b.Fatal(err)
		}
		full = append(full, time.Since(start))
	}
	reportPercentiles(b, "incremental-", incremental)
	b.ReportMetric(median(full).Seconds()*1000, "full-ms")
	b.ReportMetric(float64(median(incremental))/float64(median(full)), "incremental/full")
}

// syncAndRender syncs repo and times the incremental render of its revision,
// checking that exactly the changed model was rendered after the first.
func syncAndRender(b *testing.B, repo *source.Repo, inc *Incremental) (string, time.Duration, error) {
	snap, _, err := repo.Sync(b.Context())
	if err != nil {
		return "", 0, err
	}
	start := time.Now()
	res, err := inc.Render(snap.Dir, snap, Hooks{})
	took := time.Since(start)
	if err != nil {
		return "", 0, err
	}
	rendered := 0
	for _, u := range res.Units {
		if u.Err != nil {
			return "", 0, u.Err
		}
		if !u.Reused {
			rendered++
		}
	}
	if rendered != 1 && rendered != len(res.Units) {
		return "", 0, fmt.Errorf("%d of %d units rendered, want 1 (or all, the first time)", rendered, len(res.Units))
	}
	return snap.Dir, took, nil
}

// exportTrees writes, for models 0..n-1 of dir, the exact tree tether hands
// kustomize (model folder, rendered objects, kustomization with them added)
// to dst, plus dst/kustomization.yaml listing every model.
func exportTrees(b *testing.B, dir, dst string, n int) {
	var root strings.Builder
	root.WriteString("resources:\n")
	for i := range n {
		source := path.Join(ModelsDir, benchgen.Name(i))
		t, err := newTree(dir)
		if err != nil {
			b.Fatal(err)
		}
		_, err = prepareOverlay(t, source, renderForBench(b, dir, benchgen.Name(i)))
		t.release()
		if err != nil {
			b.Fatal(err)
		}
		if err := t.fs.Walk("/", func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			data, err := t.fs.ReadFile(p)
			if err != nil {
				return err
			}
			out := filepath.Join(dst, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return os.WriteFile(out, data, 0o644)
		}); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(&root, "  - %s\n", source)
	}
	if err := os.WriteFile(filepath.Join(dst, "kustomization.yaml"), []byte(root.String()), 0o644); err != nil {
		b.Fatal(err)
	}
}

// renderForBench decodes and renders one model without its overlay.
func renderForBench(b *testing.B, dir, folder string) []*unstructured.Unstructured {
	b.Helper()
	file := filepath.Join(dir, ModelsDir, folder, ModelFile)
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	m, _, errs := decodeModel(file, data)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	applyDefaults(m, folder, benchOpts)
	objs, err := renderModel(m, path.Join(ModelsDir, folder))
	if err != nil {
		b.Fatal(err)
	}
	return objs
}

func kubectlPath(b *testing.B) string {
	name := os.Getenv("KUBECTL")
	if name == "" {
		name = "/usr/bin/kubectl"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		b.Fatalf("kubectl not found (%v); set KUBECTL to compare against kubectl kustomize", err)
	}
	return p
}

func runKubectl(b *testing.B, kubectl, dir string) {
	out, err := exec.Command(kubectl, "kustomize", dir).CombinedOutput()
	if err != nil {
		b.Fatalf("kubectl kustomize %s: %v\n%s", dir, err, out)
	}
}

func reportPercentiles(b *testing.B, prefix string, times []time.Duration) {
	if len(times) == 0 {
		return
	}
	slices.Sort(times)
	at := func(q float64) time.Duration { return times[min(len(times)-1, int(q*float64(len(times))))] }
	b.ReportMetric(float64(at(0.50).Microseconds())/1000, prefix+"p50-ms")
	b.ReportMetric(float64(at(0.99).Microseconds())/1000, prefix+"p99-ms")
}

// cpuTime is the CPU time (user and system) this process used so far: unlike
// wall time, it barely moves when other work shares the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(times []time.Duration) time.Duration {
	s := slices.Clone(times)
	slices.Sort(s)
	return s[len(s)/2]
}
