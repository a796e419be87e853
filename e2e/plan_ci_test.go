package e2e

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanCIExamples: the `tether plan` lines of examples/ci run as the CI jobs
// run them, in a clone of a repository whose pull request branch was cut
// before main moved on: exit 2, the comment and the full plan written, and
// only the pull request's own change in them.
func TestPlanCIExamples(t *testing.T) {
	origin, _ := exampleRepo(t)
	origin.Git("checkout", "-q", "-b", "pr")
	scaled := strings.Replace(readFile(t, origin.Dir+"/models/churn-scorer/model.yaml"), "replicas: 1", "replicas: 3", 1)
	pr := origin.Commit(map[string]string{"models/churn-scorer/model.yaml": scaled})
	origin.Git("checkout", "-q", "main")
	fraud := readFile(t, origin.Dir+"/models/fraud-detector/model.yaml")
	origin.Commit(map[string]string{"models/fraud-detector/model.yaml": strings.Replace(fraud, "replicas: 2", "replicas: 4", 1)})

	tests := []struct {
		file string
		env  []string
	}{
		{"github-actions.yml", []string{"BASE_REF=main", "HEAD_SHA=" + pr}},
		{"gitlab-ci.yml", []string{"CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main", "CI_COMMIT_SHA=" + pr}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			lines := planLines(t, filepath.Join("..", "examples", "ci", tt.file))
			if len(lines) != 1 {
				t.Fatalf("%d tether plan lines in %s, want 1: %q", len(lines), tt.file, lines)
			}
			clone := filepath.Join(t.TempDir(), "checkout")
			origin.Git("clone", "-q", origin.Dir, clone)
			cmd := exec.Command("sh", "-c", "code=0\n"+lines[0]+"\nexit $code")
			cmd.Dir = clone
			cmd.Env = append(os.Environ(), append(tt.env, "PATH="+filepath.Dir(tetherBin)+":"+os.Getenv("PATH"))...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("%s: %v, want exit 2 (changes)\n%s", lines[0], err, out)
			}
			comment, full := readFile(t, filepath.Join(clone, "plan.md")), readFile(t, filepath.Join(clone, "plan-full.md"))
			if !strings.HasPrefix(comment, "<!-- tether-plan -->\n### tether plan: 1 model changed\n") || comment != full {
				t.Errorf("plan.md (%d bytes, plan-full.md %d) does not start with the marker and the summary:\n%s", len(comment), len(full), comment)
			}
			if !strings.Contains(comment, "+  replicas: 3") || strings.Contains(comment, "replicas: 4") {
				t.Errorf("the plan should hold the pull request's change and not main's later one:\n%s", comment)
			}
			status, err := exec.Command("git", "-C", clone, "status", "--porcelain").Output()
			if err != nil || string(status) != "?? plan-full.md\n?? plan.md\n" {
				t.Errorf("git status of the checkout: %q; tether plan must touch nothing but its output", status)
			}
		})
	}
}

// planLines returns the `tether plan` command lines of a CI file, as its
// shell would run them (a YAML list item's "- " left out).
func planLines(t *testing.T, file string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(readFile(t, file), "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "- ")
		if strings.HasPrefix(line, "tether plan ") {
			out = append(out, line)
		}
	}
	return out
}
