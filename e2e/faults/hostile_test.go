//go:build faults

package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/gitrepo"
)

// hostile is a daemon on a repository of three models (h000-h002) and a
// bundle, into which each subtest of TestHostileRepository commits a hostile
// input, and then takes it out again.
type hostile struct {
	f    *fixture
	d    *daemon
	base uids // what existed before any hostile input: it must all stay
}

// TestHostileRepository: hostile input in Git. Each must fail alone — the
// unit it is in, or the whole revision when it is the models/ folder —
// with a clear error, and take nothing away: no object is pruned or
// replaced because of it, and the daemon's memory stays bounded.
func TestHostileRepository(t *testing.T) {
	f := newFixture(t, "faults-hostile")
	f.repo.Commit(baseFiles())
	h := &hostile{f: f, d: startDaemon(t, f.args("--interval", "5s")...)}
	h.d.reconciled(t, 0, f.repo.Head(), 3*time.Minute)
	h.base = f.converged(t, time.Minute)
	t.Run("alias bombs", h.aliasBombs)
	t.Run("symlinks", h.symlinks)
	t.Run("large overlay trees", h.largeTrees)
	t.Run("impossible schedules in Git", h.schedules)
}

// baseFiles are the repository's files before and after each hostile input.
func baseFiles() map[string]string {
	files := modelFiles("h", 3, 1)
	files["tether.yaml"] = "bundles: [bundles/platform]\n"
	files["bundles/platform/kustomization.yaml"] = "resources: [cm.yaml]\n"
	files["bundles/platform/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: platform}\ndata: {a: b}\n"
	return files
}

// bomb is a billion-laughs YAML document: nine levels of nine aliases,
// 9^9 strings once expanded, in under a kilobyte.
func bomb() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 9; i++ {
		ref := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "  l%d: &l%d [%s]\n", i, i, strings.Repeat(ref+", ", 8)+ref)
	}
	return b.String()
}

func (h *hostile) aliasBombs(t *testing.T) {
	r := newResult(t, "hostile: YAML alias bombs",
		"a billion-laughs document (9 levels of 9 aliases, under 1 KiB) committed in an overlay's resource (h000), a bundle's resource, and a component an overlay uses (h001), one commit each")
	steps := []struct {
		unit   string
		change map[string]string
	}{
		{"h000", map[string]string{"models/h000/kustomization.yaml": "resources: [bomb.yaml]\n", "models/h000/bomb.yaml": bomb()}},
		{"platform", map[string]string{"bundles/platform/kustomization.yaml": "resources: [cm.yaml, bomb.yaml]\n", "bundles/platform/bomb.yaml": bomb()}},
		{"h001", map[string]string{"models/h001/kustomization.yaml": "components: [../../components/c]\n",
			"components/c/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [bomb.yaml]\n",
			"components/c/bomb.yaml":          bomb()}},
	}
	for _, s := range steps {
		line, rss := h.invalid(t, s.change, s.unit)
		r.tether("%s invalid: %q", s.unit, line)
		r.figure("%s: peak RSS %.0f MiB", s.unit, rss)
	}
	h.intact(t, r)
}

func (h *hostile) symlinks(t *testing.T) {
	r := newResult(t, "hostile: models/ or bundles/ as a symlink",
		"models/ replaced by a symlink to a folder holding one model (as models -> /etc would list the host's /etc), then bundles/ by a symlink to a copy of the bundle")
	repo := h.f.repo
	mark := h.d.Mark()
	repo.Git("mv", "models", "real-models")
	gitrepo.WriteFiles(t, repo.Dir, map[string]string{"elsewhere/models/x/model.yaml": modelYAML("x", 1)})
	symlink(t, "elsewhere/models", filepath.Join(repo.Dir, "models"))
	head := repo.Commit(nil)
	line := h.waitLog(t, mark, "sync failed", map[string]string{"revision": head})
	r.tether("models/ link: the whole revision refused, nothing applied or pruned: %q", line)
	h.intactNow(t, r)
	repo.Git("rm", "-q", "models")
	repo.Git("mv", "real-models", "models")
	h.clean(t, repo.Commit(map[string]string{"elsewhere": ""}))

	mark = h.d.Mark()
	repo.Git("mv", "bundles", "shared")
	symlink(t, "shared", filepath.Join(repo.Dir, "bundles"))
	head = repo.Commit(nil)
	line = h.waitLog(t, mark, "model invalid", map[string]string{"revision": head, "model": "platform"})
	r.tether("bundles/ link: the bundle alone invalid, the models applied: %q", line)
	h.intactNow(t, r)
	repo.Git("rm", "-q", "bundles")
	repo.Git("mv", "shared", "bundles")
	h.clean(t, repo.Commit(nil))
	h.intact(t, r)
}

func (h *hostile) largeTrees(t *testing.T) {
	const models, mib, tooBig = 6, 40, 70
	r := newResult(t, "hostile: large overlay trees in parallel",
		fmt.Sprintf("%d new models whose overlay folders hold %d MiB each (%d MiB in all, over the 128 MiB all renders share), and one whose folder holds %d MiB (over the 64 MiB of one unit), in one commit", models, mib, models*mib, tooBig))
	mb := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB; git stores it once
	change := map[string]string{}
	for i := range models + 1 {
		name, size := fmt.Sprintf("big%d", i), mib
		if i == models {
			size = tooBig
		}
		change["models/"+name+"/model.yaml"] = modelYAML(name, 1)
		change["models/"+name+"/kustomization.yaml"] = "resources: []\n"
		for j := range size {
			change[fmt.Sprintf("models/%s/data/part%03d.txt", name, j)] = mb
		}
	}
	rssBefore := rssMiB(h.d.pid())
	peak := rssPeak(h.d.pid())
	mark := h.d.Mark()
	began := time.Now()
	head := h.f.repo.Commit(change)
	line := h.waitLog(t, mark, "model invalid", map[string]string{"revision": head, "model": fmt.Sprintf("big%d", models)})
	reconciled := h.waitLog(t, mark, "revision reconciled", map[string]string{"revision": head})
	took := time.Since(began)
	rss := peak()
	for i := range models {
		if _, _, err := h.f.k.deployment(t.Context(), h.f.ns, fmt.Sprintf("big%d", i)); err != nil {
			t.Errorf("big%d not applied: %v", i, err)
		}
	}
	r.tether("the %d models rendered, waiting for room, and applied (%s); big%d invalid alone: %q", models, reconciled, models, line)
	r.figure("commit to reconciled %s; RSS %.0f MiB before, %.0f MiB peak (--memory-limit 192Mi)", took.Round(100*time.Millisecond), rssBefore, rss)
	undo := map[string]string{}
	for i := range models + 1 {
		undo[fmt.Sprintf("models/big%d", i)] = ""
	}
	h.clean(t, h.f.repo.Commit(undo))
	h.intact(t, r)
}

func (h *hostile) schedules(t *testing.T) {
	r := newResult(t, "hostile: impossible schedules in Git",
		`a training schedule that never fires ("0 0 30 2 *", February 30) in h002, then a tether.yaml allow window that never opens ("0 9 31 4 *", April 31)`)
	spec := strings.Replace(modelYAML("h002", 1), "dataset:", `schedule: "0 0 30 2 *", dataset:`, 1)
	line, _ := h.invalid(t, map[string]string{"models/h002/model.yaml": spec}, "h002")
	r.tether("h002 invalid, its Job left as it was: %q", line)
	mark := h.d.Mark()
	head := h.f.repo.Commit(map[string]string{"tether.yaml": "bundles: [bundles/platform]\nsyncWindows:\n- {kind: allow, schedule: \"0 9 31 4 *\", duration: 1h}\n"})
	line = h.waitLog(t, mark, "sync failed", map[string]string{"revision": head})
	r.tether("the window: tether.yaml invalid, the whole revision refused, nothing applied or pruned: %q", line)
	h.intactNow(t, r)
	h.clean(t, h.f.repo.Commit(map[string]string{"tether.yaml": "bundles: [bundles/platform]\n"}))
	h.intact(t, r)
}

// invalid commits change, waits until the daemon reports unit invalid in the
// new head, checks that nothing was lost, and takes the change out again.
// It returns the reported error and the daemon's peak RSS meanwhile.
func (h *hostile) invalid(t *testing.T, change map[string]string, unit string) (string, float64) {
	t.Helper()
	peak := rssPeak(h.d.pid())
	mark := h.d.Mark()
	head := h.f.repo.Commit(change)
	line := h.waitLog(t, mark, "model invalid", map[string]string{"revision": head, "model": unit})
	h.waitLog(t, mark, "revision reconciled", map[string]string{"revision": head})
	rss := peak()
	h.intactNow(t, nil)
	undo := baseFiles()
	for path := range change {
		if _, kept := undo[path]; !kept {
			undo[path] = ""
		}
	}
	h.clean(t, h.f.repo.Commit(undo))
	return line, rss
}

// waitLog waits for a log line after mark and returns its err, or its
// duration for a "revision reconciled" line.
func (h *hostile) waitLog(t *testing.T, mark int, msg string, match map[string]string) string {
	t.Helper()
	var out string
	eventually(t, 3*time.Minute, msg+" logged", func() (bool, error) {
		lines := h.d.Find(mark, msg, match)
		if len(lines) == 0 {
			return false, nil
		}
		out, _, _ = strings.Cut(fmt.Sprint(lines[0].Fields["err"]), "; ") // the error, not the advice after it
		if msg == "revision reconciled" {
			out = fmt.Sprintf("%v models, %v failed", lines[0].Fields["models"], lines[0].Fields["failed"])
		}
		return true, nil
	})
	return out
}

// clean waits until revision is reconciled without a failure.
func (h *hostile) clean(t *testing.T, revision string) {
	t.Helper()
	h.d.reconciled(t, 0, revision, 3*time.Minute)
}

// intactNow checks that every object of the base is still the same object;
// r, when given, counts what is not.
func (h *hostile) intactNow(t *testing.T, r *result) {
	t.Helper()
	keys := make([]objKey, 0, len(h.base))
	for k := range h.base {
		keys = append(keys, k)
	}
	lost := replaced(h.base, h.f.k.mustLive(t, keys))
	if r == nil {
		if len(lost) > 0 {
			t.Errorf("lost: %s", strings.Join(lost, ", "))
		}
		return
	}
	r.lose(t, "lost or wrongly deleted", lost)
}

// intact is intactNow at the end of a subtest, once tether converged again.
func (h *hostile) intact(t *testing.T, r *result) {
	t.Helper()
	h.f.account(t, r, h.base, time.Minute)
	if !h.d.Running() {
		t.Fatal("the daemon exited")
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
