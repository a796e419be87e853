package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// readmeSection is the README's "Run it in a cluster" section.
func readmeSection(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Run it in a cluster\n")
	if !ok {
		t.Fatal(`README.md has no "## Run it in a cluster" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	return section
}

// TestReadme keeps the README's install instructions true: its values file
// is what the cluster tests install, and it creates the Secrets, with the
// keys, that those tests create.
func TestReadme(t *testing.T) {
	section := readmeSection(t)
	block := regexp.MustCompile("(?s)```yaml\n# values.yaml\n(.*?)```").FindStringSubmatch(section)
	if block == nil {
		t.Fatal("the README's section has no ```yaml block starting with # values.yaml")
	}
	readme := map[string]any{}
	if err := yaml.Unmarshal([]byte(block[1]), &readme); err != nil {
		t.Fatalf("README values.yaml: %v", err)
	}
	if diff := cmp.Diff(readValues(t, filepath.Join("testdata", "install.values.yaml")), readme); diff != "" {
		t.Errorf("README values.yaml differs from testdata/install.values.yaml (-test +README):\n%s", diff)
	}
	for name, keys := range testSecrets {
		for _, key := range keys {
			cmd := "create secret generic " + name + " --from-literal=" + key + "="
			if !strings.Contains(section, cmd) {
				t.Errorf("the README does not %q", cmd)
			}
		}
	}
	if !strings.Contains(section, "https://tether.example.com/hooks/git") {
		t.Error("the README does not give the webhook URL https://tether.example.com/hooks/git")
	}
}
