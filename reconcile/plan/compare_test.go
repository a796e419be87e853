package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/reconcile"
)

func TestOffline(t *testing.T) {
	two := files{"models/a/model.yaml": model(pinned, 1), "models/b/model.yaml": model(pinned, 1)}
	tests := []struct {
		name       string
		base, head files
		opts       Options
		exit       int
		summary    string
		actions    map[string]Action // a subset of the plan's
		check      func(t *testing.T, p *Plan)
	}{
		{
			name: "nothing changes", base: two, head: two, exit: ExitNoChanges, summary: "no changes",
			actions: map[string]Action{"a Deployment/ml/a": ActionUnchanged, "b Service/ml/b": ActionUnchanged},
		},
		{
			name: "a model added", base: two, head: two.with(files{"models/c/model.yaml": model(pinned, 2)}),
			exit: ExitChanges, summary: "1 model added",
			actions: map[string]Action{"c Deployment/ml/c": ActionCreate, "c Service/ml/c": ActionCreate, "a Deployment/ml/a": ActionUnchanged},
			check: func(t *testing.T, p *Plan) {
				if got := unitByName(t, p, "c").Resources.Head.Replicas; got != (Range{2, 2}) {
					t.Errorf("replicas of c = %v, want 2", got)
				}
			},
		},
		{
			name: "replicas changed", base: two, head: two.with(files{"models/a/model.yaml": model(pinned, 3)}),
			exit: ExitChanges, summary: "1 model changed",
			actions: map[string]Action{"a Deployment/ml/a": ActionUpdate, "a Service/ml/a": ActionUnchanged},
			check: func(t *testing.T, p *Plan) {
				d := objectByName(t, unitByName(t, p, "a"), "Deployment/ml/a").Diff
				if !strings.Contains(d, "\n-  replicas: 1\n+  replicas: 3\n") || !strings.HasPrefix(d, "--- base/Deployment/ml/a\n+++ head/Deployment/ml/a\n") {
					t.Errorf("diff:\n%s", d)
				}
				want := Change{Base: Usage{Replicas: Range{2, 2}, CPU: Range{1000, 1000}, Memory: Range{2 << 30, 2 << 30}},
					Head: Usage{Replicas: Range{4, 4}, CPU: Range{2000, 2000}, Memory: Range{4 << 30, 4 << 30}}}
				if diff := cmp.Diff(want, p.Resources); diff != "" {
					t.Errorf("total resources (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "a changed training spec is a new run", base: files{"models/t/model.yaml": trainer("10")},
			head: files{"models/t/model.yaml": trainer("20")}, exit: ExitChanges, summary: "1 model changed",
			check: func(t *testing.T, p *Plan) {
				u := unitByName(t, p, "t")
				var created, kept *Object
				for i := range u.Objects {
					switch u.Objects[i].Action {
					case ActionCreate:
						created = &u.Objects[i]
					case ActionRetain:
						kept = &u.Objects[i]
					case ActionUpdate:
						// serving objects name the run they go with (tether.dev/training-run)
						if o := u.Objects[i]; o.Kind == "Job" || !strings.Contains(o.Diff, "tether.dev/training-run") {
							t.Errorf("%s: updated; only the serving objects' training-run annotation may change: %s", o.String(), o.Diff)
						}
					case ActionDelete:
						t.Errorf("%s: deleted; a training Job is never pruned by a merge", u.Objects[i].String())
					}
				}
				if created == nil || kept == nil || created.Kind != "Job" || kept.Kind != "Job" {
					t.Fatalf("want one Job created and one kept, got %v", actions(p))
				}
				if !strings.Contains(strings.Join(created.Notes, " "), "a new training run") || !strings.Contains(strings.Join(created.Notes, " "), kept.Name) {
					t.Errorf("notes of the new run: %q", created.Notes)
				}
				if got := u.Resources.Head.Training; got != (Run{GPU: 1, CPU: 2000, Memory: 8 << 30, MaxSeconds: 3600}) {
					t.Errorf("training run = %+v", got)
				}
			},
		},
		{
			name: "a model removed is pruned", base: two, head: files{"models/a/model.yaml": model(pinned, 1)},
			exit: ExitChanges, summary: "1 model removed · 2 prunes",
			actions: map[string]Action{"b Deployment/ml/b": ActionDelete, "b Service/ml/b": ActionDelete},
			check: func(t *testing.T, p *Plan) {
				if g := p.Guard; g.Blocked || g.Deletions != 2 || g.Managed != 4 {
					t.Errorf("guard = %+v, want 2 of 4 deletions allowed", g)
				}
			},
		},
		{
			name: "the guard blocks more than --max-prune", base: two, head: files{"models/a/model.yaml": model(pinned, 1)},
			opts: Options{MaxPrune: reconcile.PruneLimit{Count: 1, IsCount: true}}, exit: ExitFailed,
			summary: "1 model removed · 2 prunes blocked",
			check: func(t *testing.T, p *Plan) {
				if !p.Guard.Blocked || !strings.Contains(p.Guard.Reason, "2 of 4 managed objects would be deleted, more than --max-prune 1") {
					t.Errorf("guard = %+v", p.Guard)
				}
			},
		},
		{
			name: "allowMassPrune lets it through", base: two,
			head: files{"models/a/model.yaml": model(pinned, 1), "tether.yaml": "allowMassPrune: true\n"},
			opts: Options{MaxPrune: reconcile.PruneLimit{Count: 1, IsCount: true}}, exit: ExitChanges,
			summary: "1 model removed · 2 prunes",
		},
		{
			name: "rendering no models while some are managed is blocked", base: two, head: files{"README": "empty"},
			exit: ExitFailed, summary: "2 models removed · 4 prunes blocked",
			check: func(t *testing.T, p *Plan) {
				if !strings.Contains(p.Guard.Reason, "renders no models while 4 objects are managed") {
					t.Errorf("guard = %+v", p.Guard)
				}
			},
		},
		{
			name: "an invalid model is a blocker and prunes nothing", base: two,
			head: two.with(files{"models/b/model.yaml": "apiVersion: tether.dev/v1alpha1\nkind: Model\nspec:\n  image: x\n  serving: {replicas: -1}\n"}),
			exit: ExitFailed, summary: "1 model invalid",
			check: func(t *testing.T, p *Plan) {
				u := unitByName(t, p, "b")
				if len(u.Objects) != 0 || len(u.Errors) == 0 || !strings.HasPrefix(u.Errors[0], "models/b/model.yaml:5: spec.serving.replicas") {
					t.Errorf("invalid unit: objects %v, errors %q", u.Objects, u.Errors)
				}
				if p.Resources.Base != p.Resources.Head {
					t.Errorf("an invalid model changes no resources: %+v", p.Resources)
				}
			},
		},
		{
			name: "an invalid tether.yaml fails the revision", base: two, head: two.with(files{"tether.yaml": "drift: sometimes\n"}),
			exit: ExitFailed, summary: "2 errors · no changes",
			check: func(t *testing.T, p *Plan) {
				if len(p.Units) != 0 || !strings.Contains(p.Errors[1], `tether.yaml:1: drift: "sometimes"`) {
					t.Errorf("units %d, errors %q", len(p.Units), p.Errors)
				}
			},
		},
		{
			name: "a suspended model changes nothing", base: two, head: two.with(files{"models/a/model.yaml": model(pinned, 5, "  suspend: true")}),
			exit: ExitNoChanges, summary: "1 model suspended",
		},
		{
			name: "GPUs under an autoscaler", base: two,
			head: two.with(files{"models/a/model.yaml": strings.Replace(model(pinned, 1, "    autoscaling: {minReplicas: 2, maxReplicas: 4}"),
				"{cpu: 500m, memory: 1Gi}", "{cpu: 500m, memory: 1Gi, gpu: 1}", 1)}),
			exit: ExitChanges, summary: "1 model changed · GPU +2..+4",
			actions: map[string]Action{"a HorizontalPodAutoscaler/ml/a": ActionCreate, "a Deployment/ml/a": ActionUpdate},
			check: func(t *testing.T, p *Plan) {
				if got := unitByName(t, p, "a").Resources.Head; got.Replicas != (Range{2, 4}) || got.GPU != (Range{2, 4}) {
					t.Errorf("head usage %+v", got)
				}
			},
		},
		{
			name: "one model selected", base: two, head: files{"models/a/model.yaml": model(pinned, 2)}, opts: Options{Models: []string{"a"}},
			exit: ExitChanges, summary: "1 model changed",
			check: func(t *testing.T, p *Plan) {
				if len(p.Units) != 1 || p.Guard.Deletions != 2 {
					t.Errorf("units %d, guard %+v: want one unit, the guard over the whole revision", len(p.Units), p.Guard)
				}
			},
		},
		{
			name: "an unknown model selected", base: two, head: two, opts: Options{Models: []string{"nope"}},
			exit: ExitFailed, summary: "1 error · no changes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := offline(t, tt.base, tt.head, tt.opts)
			if p.ExitCode != tt.exit || p.Summary != tt.summary {
				t.Errorf("exit %d, summary %q; want %d, %q\n%s", p.ExitCode, p.Summary, tt.exit, tt.summary, p.Text())
			}
			got := actions(p)
			for k, want := range tt.actions {
				if got[k] != want {
					t.Errorf("%s: %q, want %q (all: %v)", k, got[k], want, got)
				}
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

// TestOfflineBundles: immutable fields, handovers between units and Secrets.
func TestOfflineBundles(t *testing.T) {
	svc := func(ip string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: ml}\nspec:\n  clusterIP: " + ip + "\n  ports: [{port: 5432}]\n"
	}
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared, namespace: ml}\ndata: {k: v}\n"
	secret := func(password string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: ml}\nstringData: {user: admin, password: " + password + "}\n"
	}
	settings := func(bundles ...string) files {
		return files{"tether.yaml": "bundles: [" + strings.Join(bundles, ", ") + "]\n"}
	}
	base := settings("bundles/a").with(bundle("a", svc("10.0.0.10"), cm, secret("hunter2")))
	tests := []struct {
		name  string
		head  files
		exit  int
		check func(t *testing.T, p *Plan)
	}{
		{"a clusterIP change would fail", settings("bundles/a").with(bundle("a", svc("10.0.0.11"), cm, secret("hunter2"))), ExitFailed,
			func(t *testing.T, p *Plan) {
				o := objectByName(t, unitByName(t, p, "a"), "Service/ml/db")
				if len(o.Blockers) != 1 || !strings.Contains(o.Blockers[0], `spec.clusterIP is immutable: "10.0.0.10" → "10.0.0.11"`) {
					t.Errorf("blockers %q", o.Blockers)
				}
			}},
		{"an object moved between bundles is handed over", settings("bundles/a", "bundles/b").
			with(bundle("a", svc("10.0.0.10"), secret("hunter2"))).with(bundle("b", cm)), ExitChanges,
			func(t *testing.T, p *Plan) {
				if n := countDeletions(p.Units); n != 0 {
					t.Errorf("%d deletions; a moved object is never pruned: %v", n, actions(p))
				}
				o := objectByName(t, unitByName(t, p, "b"), "ConfigMap/ml/shared")
				if o.Action != ActionUpdate || !strings.Contains(strings.Join(o.Notes, ""), "moves from bundle a") {
					t.Errorf("moved ConfigMap: %s, notes %q", o.Action, o.Notes)
				}
			}},
		{"a Secret's values never show", settings("bundles/a").with(bundle("a", svc("10.0.0.10"), cm, secret("correct-horse"))), ExitChanges,
			func(t *testing.T, p *Plan) {
				o := objectByName(t, unitByName(t, p, "a"), "Secret/ml/creds")
				if !strings.Contains(o.Diff, "-  password: <hidden>\n+  password: <hidden> (changed)\n") {
					t.Errorf("Secret diff:\n%s", o.Diff)
				}
				data, err := p.JSON()
				if err != nil {
					t.Fatal(err)
				}
				for _, out := range []string{p.Markdown(0, ""), p.Text(), string(data)} {
					for _, leak := range []string{"hunter2", "correct-horse", "aHVudGVyMg", "Y29ycmVjdC1ob3Jz", "admin", "YWRtaW4"} {
						if strings.Contains(out, leak) {
							t.Errorf("output holds the Secret value %q", leak)
						}
					}
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := offline(t, base, tt.head, Options{})
			if p.ExitCode != tt.exit {
				t.Errorf("exit %d, want %d\n%s", p.ExitCode, tt.exit, p.Text())
			}
			tt.check(t, p)
		})
	}
}

// TestOfflineImages: unpinned images are warned about once: render's
// file:line warning for a model's image, the object's for others.
func TestOfflineImages(t *testing.T) {
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cache, namespace: ml}\nspec:\n  selector: {matchLabels: {app: cache}}\n" +
		"  template:\n    metadata: {labels: {app: cache}}\n    spec: {containers: [{name: redis, image: redis:7}]}\n"
	head := files{"models/a/model.yaml": model("registry.example.com/m:v2", 1), "tether.yaml": "bundles: [bundles/cache]\n"}.with(bundle("cache", deploy))
	p := offline(t, files{"models/a/model.yaml": model(pinned, 1)}, head, Options{})
	want := []string{
		`Deployment/ml/cache: container redis: image "redis:7" is not pinned by digest; the tag may move`,
		`models/a/model.yaml:4: spec.image: "registry.example.com/m:v2" is not pinned by digest; the tag may move`,
	}
	if diff := cmp.Diff(want, p.warnings()); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
