package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/e2e/gitrepo"
)

// planRepo is a repository whose main holds models a and b; branch pr
// changes what change says (path → content, "" deletes).
func planRepo(t *testing.T, change map[string]string) *gitrepo.Repo {
	t.Helper()
	r := gitrepo.New(t)
	r.Commit(map[string]string{"models/a/model.yaml": goodModel, "models/b/model.yaml": goodModel})
	r.Git("checkout", "-q", "-b", "pr")
	r.Commit(change)
	r.Git("checkout", "-q", "main")
	return r
}

// TestPlanCommand: exit codes, output formats and --output, on real repositories.
func TestPlanCommand(t *testing.T) {
	scaled := strings.Replace(goodModel, "port: 8080", "port: 8080\n    replicas: 3", 1)
	tests := []struct {
		name   string
		change map[string]string
		args   []string
		code   int
		stdout []string
	}{
		{"nothing changes", map[string]string{"README.md": "docs only"}, nil, 0,
			[]string{"<!-- tether-plan -->\n### tether plan: no changes\n"}},
		{"a change", map[string]string{"models/a/model.yaml": scaled}, nil, 2,
			[]string{"### tether plan: 1 model changed\n", "+  replicas: 3"}},
		{"a removal prunes", map[string]string{"models/b/model.yaml": ""}, []string{"--format", "text"}, 2,
			[]string{"tether plan: 1 model removed · 2 prunes\n", "Would prune (2):\n  Service/default/b (model b)\n"}},
		{"the guard blocks", map[string]string{"models/b/model.yaml": ""}, []string{"--max-prune", "1"}, 1,
			[]string{"2 prunes blocked", "**blocked**: the mass-deletion guard prunes nothing"}},
		{"an invalid model", map[string]string{"models/b/model.yaml": "kind: Model\n"}, []string{"--format", "json"}, 1,
			[]string{`"status": "invalid"`, `"exitCode": 1`, `models/b/model.yaml:1: apiVersion`}},
		{"require-digest as the daemon", map[string]string{"README.md": "x"}, []string{"--require-digest"}, 1,
			[]string{"has no digest"}},
		{"one model", map[string]string{"models/a/model.yaml": scaled, "models/b/model.yaml": ""}, []string{"--model", "a", "--format", "text"}, 2,
			[]string{"tether plan: 1 model changed\n"}},
		{"a path", map[string]string{"ml/models/c/model.yaml": goodModel}, []string{"--path", "ml", "--format", "text"}, 2,
			[]string{"tether plan: 1 model added\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := planRepo(t, tt.change)
			output := filepath.Join(t.TempDir(), "plan.out")
			args := append([]string{"plan", "--repo", r.Dir, "--base", "main", "--head", "pr", "--output", output}, tt.args...)
			code, stdout, stderr := run(t, args...)
			if code != tt.code || stderr != "" {
				t.Errorf("exit %d, stderr %q; want %d\n%s", code, stderr, tt.code, stdout)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if full, err := os.ReadFile(output); err != nil || string(full) != stdout {
				t.Errorf("--output: %v; want the plan as printed (it fits --max-bytes)", err)
			}
		})
	}
}

// TestPlanTruncates: stdout is cut to --max-bytes, --output holds it all.
func TestPlanTruncates(t *testing.T) {
	change := map[string]string{}
	for _, name := range []string{"c", "d", "e", "f", "g", "h", "i", "j"} {
		change["models/"+name+"/model.yaml"] = goodModel
	}
	r := planRepo(t, change)
	output := filepath.Join(t.TempDir(), "plan.md")
	code, stdout, _ := run(t, "plan", "--repo", r.Dir, "--base", "main", "--head", "pr", "--output", output, "--max-bytes", "4000")
	full, err := os.ReadFile(output)
	if code != 2 || err != nil || len(stdout) > 4000 || len(full) <= 4000 {
		t.Fatalf("exit %d, stdout %d bytes, --output %d bytes (%v)", code, len(stdout), len(full), err)
	}
	if !strings.Contains(stdout, "the full plan is in `"+output+"`") {
		t.Errorf("the cut plan does not point at --output:\n%s", stdout[len(stdout)-300:])
	}
}
