package plan

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.*")

// examplePlan is the plan README.md shows: a model scaled out onto GPUs,
// a new training run, a model removed and an invalid one.
func examplePlan(t *testing.T) *Plan {
	t.Helper()
	base := files{
		"models/fraud-detector/model.yaml": trainer("10"),
		"models/churn-scorer/model.yaml":   model(pinned, 1),
		"models/legacy/model.yaml":         model(pinned, 1),
	}
	head := files{
		"models/fraud-detector/model.yaml": strings.Replace(trainer("20"), "replicas: 2\n", "replicas: 2\n    autoscaling: {minReplicas: 2, maxReplicas: 6}\n", 1),
		"models/churn-scorer/model.yaml":   strings.Replace(model(pinned, 1), "{cpu: 500m, memory: 1Gi}", "{cpu: 500m, memory: 1Gi, gpu: 1}", 1),
		"models/ranker/model.yaml":         "apiVersion: tether.dev/v1alpha1\nkind: Model\nspec:\n  image: registry.example.com/ranker:v3\n  serving: {port: 80800}\n",
	}
	p := offline(t, base, head, Options{})
	p.Base, p.Head = RevisionRef{Ref: "origin/main", Commit: "4f2a9c1e7b3d5a8f0c6e2b9d1a7f3c5e8b0d4a6c"}, RevisionRef{Ref: "HEAD", Commit: "9e1b7d3f5a2c8e0b6d4f1a9c7e5b3d0f2a8c6e4b"}
	p.finish()
	return p
}

func TestMarkdownGolden(t *testing.T) {
	p := examplePlan(t)
	checkGolden(t, "example.golden.md", p.Markdown(0, ""))
	checkGolden(t, "example.golden.txt", p.Text())
	data, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "example.golden.json", string(data))
	if p.ExitCode != ExitFailed || p.Summary != "2 models changed, 1 removed, 1 invalid · GPU +1 · 2 prunes" {
		t.Errorf("exit %d, summary %q", p.ExitCode, p.Summary)
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// TestMarkdownTruncation: under any --max-bytes the comment fits, keeps its
// marker and summary, closes what it opened and says what it left out.
func TestMarkdownTruncation(t *testing.T) {
	base, head := files{}, files{}
	for i := range 100 {
		name := fmt.Sprintf("models/m%03d/model.yaml", i)
		base[name] = model(pinned, 1)
		head[name] = model(pinned, 1, "    command: [python, serve.py, --with-a-longer-argument-"+fmt.Sprint(i)+"]")
	}
	p := offline(t, base, head, Options{})
	full := p.Markdown(0, "")
	if len(full) < 40000 {
		t.Fatalf("the full plan is %d bytes; the test needs one that must be cut", len(full))
	}
	for _, maxBytes := range []int{2000, 5000, 12345, 30000} {
		t.Run(fmt.Sprint(maxBytes), func(t *testing.T) {
			got := p.Markdown(maxBytes, "plan-full.md")
			if len(got) > maxBytes {
				t.Errorf("%d bytes, more than %d", len(got), maxBytes)
			}
			if !strings.HasPrefix(got, "<!-- tether-plan -->\n### tether plan: 100 models changed\n") {
				t.Errorf("marker or summary lost:\n%.200s", got)
			}
			if open, closed := strings.Count(got, "<details>"), strings.Count(got, "</details>"); open != closed {
				t.Errorf("%d <details> but %d </details>", open, closed)
			}
			if fences := countFences(got); fences%2 != 0 {
				t.Errorf("%d code fences: one is left open", fences)
			}
			if !strings.Contains(got, "✂️ **Truncated** to "+fmt.Sprint(maxBytes)) || !strings.Contains(got, "the full plan is in `plan-full.md`") ||
				!strings.Contains(got, "more are not shown") {
				t.Errorf("the note does not say what was cut and where the full plan is:\n%s", got[max(0, len(got)-400):])
			}
		})
	}
	if got := p.Markdown(len(full), ""); got != full {
		t.Error("a plan that fits was changed")
	}
}

func countFences(s string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "```") {
			n++
		}
	}
	return n
}

func TestMarker(t *testing.T) {
	tests := []struct {
		plan Plan
		want string
	}{
		{Plan{}, "<!-- tether-plan -->"},
		{Plan{Path: "ml/models", Models: []string{"a", "b"}, Cluster: true}, "<!-- tether-plan path=ml/models models=a,b cluster -->"},
		{Plan{Path: "x-->y"}, "<!-- tether-plan path=x--%3Ey -->"},
	}
	for _, tt := range tests {
		if got := tt.plan.Marker(); got != tt.want {
			t.Errorf("Marker() = %q, want %q", got, tt.want)
		}
	}
}

func TestMarkdownEscapes(t *testing.T) {
	tests := []struct{ in, code, text string }{
		{"plain", "`plain`", "plain"},
		{"a`b", "``a`b``", "a\\`b"},
		{"<hidden> | *x*", "`<hidden> | *x*`", "&lt;hidden&gt; \\| \\*x\\*"},
	}
	for _, tt := range tests {
		if got := mdCode(tt.in); got != tt.code {
			t.Errorf("mdCode(%q) = %q, want %q", tt.in, got, tt.code)
		}
		if got := mdText(tt.in); got != tt.text {
			t.Errorf("mdText(%q) = %q, want %q", tt.in, got, tt.text)
		}
	}
	if got := fence("a ```` b"); got != "`````" {
		t.Errorf("fence = %q", got)
	}
}

// readmePlan is the plan README.md shows: a model scaled out onto GPUs, a
// bundle that drops a ConfigMap, and a new model that is invalid.
func readmePlan(t *testing.T) *Plan {
	t.Helper()
	flags := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: feature-flags, namespace: ml}\ndata: {ranker: \"off\"}\n"
	legacy := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: legacy-endpoints, namespace: ml}\ndata: {fraud: http://fraud-v1}\n"
	fraud := func(serving string) string {
		return "apiVersion: tether.dev/v1alpha1\nkind: Model\nmetadata: {name: fraud-detector, namespace: ml}\nspec:\n" +
			"  image: registry.example.com/fraud" + digest + "\n  serving:\n    port: 8080\n" + serving
	}
	base := files{"tether.yaml": "bundles: [bundles/platform]\n", "models/fraud-detector/model.yaml": fraud("    replicas: 2\n    resources: {cpu: \"1\", memory: 2Gi}\n")}.
		with(bundle("platform", flags, legacy))
	head := files{"tether.yaml": "bundles: [bundles/platform]\n",
		"models/fraud-detector/model.yaml": fraud("    replicas: 3\n    resources: {cpu: \"1\", memory: 2Gi, gpu: 1}\n"),
		"models/ranker/model.yaml":         "apiVersion: tether.dev/v1alpha1\nkind: Model\nspec:\n  image: registry.example.com/ranker:v3\n  serving: {port: 80800}\n",
	}.with(bundle("platform", flags))
	p := offline(t, base, head, Options{})
	p.Base, p.Head = RevisionRef{Ref: "origin/main", Commit: "4f2a9c1e7b3d5a8f0c6e2b9d1a7f3c5e8b0d4a6c"}, RevisionRef{Ref: "9e1b7d3", Commit: "9e1b7d3f5a2c8e0b6d4f1a9c7e5b3d0f2a8c6e4b"}
	p.finish()
	return p
}

// TestReadmeExample: README.md's example comment is what tether prints for
// readmePlan (go test -update rewrites it there).
func TestReadmeExample(t *testing.T) {
	const readme = "../../README.md"
	got := readmePlan(t).Markdown(0, "")
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	const open, closing = "````markdown\n", "````\n"
	start := strings.Index(text, open)
	end := strings.Index(text[max(start, 0)+len(open):], closing)
	if start < 0 || end < 0 {
		t.Fatalf("%s has no ````markdown block for the example plan", readme)
	}
	end += start + len(open)
	if *update {
		if err := os.WriteFile(readme, []byte(text[:start+len(open)]+got+text[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(text[start+len(open):end], got); diff != "" {
		t.Errorf("README.md's example plan differs from what tether prints (-README +tether; go test -update rewrites it):\n%s", diff)
	}
}
