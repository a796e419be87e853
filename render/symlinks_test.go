package render_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/render"
)

// TestSymlinkedModelsFolderRefused: a models/ that is a symlink is never
// followed (issue 11: models -> /etc listed the host's /etc as models). The
// whole revision fails, so nothing is applied or pruned because of it.
func TestSymlinkedModelsFolderRefused(t *testing.T) {
	hostDir := t.TempDir() // stands for /etc: folders outside the repository
	mkdir(t, filepath.Join(hostDir, "ssl"))
	writeModel(t, hostDir, "host", validSpec)
	tests := []struct {
		name   string
		target func(dir string) string
	}{
		{"outside the repository", func(string) string { return filepath.Join(hostDir, "models") }},
		{"absolute, like /etc", func(string) string { return hostDir }},
		{"inside the repository", func(dir string) string {
			writeModel(t, filepath.Join(dir, "elsewhere"), "m", validSpec)
			return "elsewhere/models"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			symlink(t, tt.target(dir), filepath.Join(dir, render.ModelsDir))
			res, err := render.Repository(dir, render.Options{})
			want := "models: is a symlink; the models folder must be a real directory (symlinks are not followed)"
			if err == nil || err.Error() != want {
				t.Errorf("error = %v\nwant %q", err, want)
			}
			if res != nil {
				t.Errorf("a refused revision must render nothing, got %d units", len(res.Units))
			}
		})
	}
}

// TestSymlinkedBundleRefused: a bundle whose folder, or any folder above it,
// is a symlink fails alone; it is never followed, not even inside the
// repository.
func TestSymlinkedBundleRefused(t *testing.T) {
	outside := t.TempDir()
	bundle := map[string]string{"kustomization.yaml": "resources: [ns.yaml]\n", "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: stolen}\n"}
	writeTree(t, filepath.Join(outside, "platform"), bundle)
	tests := []struct {
		name       string
		link, to   string
		bundlePath string
		want       string
	}{
		{"bundles/ leaves the repository", "bundles", outside, "bundles/platform",
			`bundles/platform: "bundles" is a symlink; a bundle's folder and the folders above it must be real directories (symlinks are not followed)`},
		{"bundles/ inside the repository", "bundles", "shared", "bundles/platform",
			`bundles/platform: "bundles" is a symlink`},
		{"the bundle folder", "bundles/platform", "../shared/platform", "bundles/platform",
			`bundles/platform: "bundles/platform" is a symlink`},
		{"a folder higher up", "infra", "shared", "infra/platform",
			`infra/platform: "infra" is a symlink`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, filepath.Join(dir, "shared", "platform"), bundle)
			writeTree(t, dir, map[string]string{
				"tether.yaml":                  "bundles: [" + tt.bundlePath + ", good/base]\n",
				"good/base/kustomization.yaml": "resources: [ns.yaml]\n",
				"good/base/ns.yaml":            "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n",
				"models/m/model.yaml":          validSpec,
				"models/m/kustomization.yaml":  "resources: []\n",
			})
			link := filepath.Join(dir, filepath.FromSlash(tt.link))
			mkdir(t, filepath.Dir(link))
			symlink(t, tt.to, link)
			res, err := render.Repository(dir, render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range res.Units {
				got := errText(u.Err)
				switch {
				case u.Source == tt.bundlePath && !strings.Contains(got, tt.want):
					t.Errorf("bundle error = %q\nwant %q", got, tt.want)
				case u.Source == tt.bundlePath && u.Objects != nil:
					t.Errorf("a refused bundle must have no objects")
				case u.Source != tt.bundlePath && got != "":
					t.Errorf("unit %s must still render: %v", u.Source, got)
				}
			}
		})
	}
}
