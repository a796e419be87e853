package render_test

import (
	"strings"
	"testing"

	"github.com/tether-ml/tether/render"
)

func TestDuplicates(t *testing.T) {
	model := func(name string) string { return strings.Replace(validSpec, "name: m", "name: "+name, 1) }
	tests := []struct {
		name     string
		settings string
		files    map[string]string
		want     map[string]string // unit name -> substring of its error; units not listed must render
	}{
		{"overlay renames onto another model", "", map[string]string{
			"models/b/model.yaml":         model("b"),
			"models/b/kustomization.yaml": "nameSuffix: -x\n",
			"models/b-x/model.yaml":       model("b-x"),
			"models/other/model.yaml":     model("other"),
		}, map[string]string{
			"b":   "models/b: Deployment.apps/ml/b-x is also rendered by models/b-x",
			"b-x": "models/b-x: Deployment.apps/ml/b-x is also rendered by models/b",
		}},
		{"bundle ships a model's Service", "bundles: [bundles/net]\n", map[string]string{
			"bundles/net/kustomization.yaml": "resources: [svc.yaml]\n",
			"bundles/net/svc.yaml":           "apiVersion: v1\nkind: Service\nmetadata: {name: m, namespace: ml}\nspec: {ports: [{port: 80}]}\n",
			"models/m/model.yaml":            model("m"),
			"models/other/model.yaml":        model("other"),
		}, map[string]string{
			"net": "bundles/net: Service/ml/m is also rendered by models/m",
			"m":   "models/m: Service/ml/m is also rendered by bundles/net",
		}},
		{"bundle named like a model", "bundles: [infra/m]\n", map[string]string{
			"infra/m/kustomization.yaml": "resources: [ns.yaml]\n",
			"infra/m/ns.yaml":            "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n",
			"models/m/model.yaml":        model("m"),
			"models/other/model.yaml":    model("other"),
		}, map[string]string{
			"m": `name "m" is also the name of`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.settings != "" {
				writeSettings(t, dir, tt.settings)
			}
			writeTree(t, dir, tt.files)
			res, err := render.Repository(dir, render.Options{DefaultNamespace: "ml"})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range res.Units {
				want, clash := tt.want[u.Name]
				switch {
				case clash && (u.Err == nil || !strings.Contains(u.Err.Error(), want) || u.Objects != nil):
					t.Errorf("%s %s: error = %v, objects = %d\nwant an error containing %q and no objects", u.Kind, u.Name, u.Err, len(u.Objects), want)
				case !clash && u.Err != nil:
					t.Errorf("%s %s must still render: %v", u.Kind, u.Name, u.Err)
				}
			}
		})
	}
}
