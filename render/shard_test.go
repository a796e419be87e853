package render

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/e2e/gitrepo"
)

// TestShards: each shard renders its own models; the others are listed as
// elsewhere, and a model whose shard cannot be read as undecided, except by
// the unsharded instance, which reports it invalid.
func TestShards(t *testing.T) {
	labelled := func(shard string) string {
		return "apiVersion: tether.dev/v1alpha1\nkind: Model\nmetadata: {labels: {tether.dev/shard: " + shard + "}}\n" + incModel[len("apiVersion: tether.dev/v1alpha1\nkind: Model\n"):]
	}
	remote := gitrepo.New(t)
	remote.Commit(map[string]string{
		"tether.yaml":                         "bundles: [bundles/platform]\n",
		"bundles/platform/kustomization.yaml": "resources: [cm.yaml]\n",
		"bundles/platform/cm.yaml":            incExtra,
		"models/a/model.yaml":                 incModel,
		"models/b/model.yaml":                 labelled("x"),
		"models/c/model.yaml":                 labelled("y"),
		"models/d/model.yaml":                 "metadata: [broken\n",
		"models/e/model.yaml":                 labelled("x") + "  bogus: 1\n",
	})
	snap, _, err := sourceOf(t, remote).Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byHash := [2][]string{}
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		byHash[HashShard(m, 2)] = append(byHash[HashShard(m, 2)], m)
	}
	tests := []struct {
		name                 string
		shard                *Shard
		units                []string // "!" marks an invalid unit
		elsewhere, undecided []string
	}{
		{"every unit", nil, []string{"platform", "a", "b", "c", "!d", "!e"}, nil, nil},
		{"unsharded instance", &Shard{}, []string{"platform", "a", "!d"}, []string{"b", "c", "e"}, nil},
		{"shard x", &Shard{Name: "x"}, []string{"b", "!e"}, []string{"a", "c"}, []string{"d"}},
		{"hash 0 of 2", &Shard{Count: 2, Index: 0}, append([]string{"platform"}, marked(byHash[0])...), byHash[1], nil},
		{"hash 1 of 2", &Shard{Count: 2, Index: 1}, marked(byHash[1]), byHash[0], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inc := NewIncremental(Options{DefaultNamespace: "ml"})
			if tt.shard != nil {
				inc.ForShard(*tt.shard)
			}
			res, err := inc.Render(snap.Dir, snap, Hooks{})
			if err != nil {
				t.Fatal(err)
			}
			var units []string
			for _, u := range res.Units {
				name := u.Name
				if u.Err != nil {
					name = "!" + name
					t.Logf("%s: %v", u.Name, u.Err)
				}
				units = append(units, name)
				for _, o := range u.Objects {
					if v, ok := o.GetLabels()[LabelShard]; ok {
						t.Errorf("%s: %s carries %s=%s; the shard label routes, it is not copied", u.Name, objectKey(o), LabelShard, v)
					}
				}
			}
			got := [][]string{units, res.Elsewhere, res.Undecided}
			if diff := cmp.Diff([][]string{tt.units, tt.elsewhere, tt.undecided}, got); diff != "" {
				t.Errorf("units, elsewhere, undecided (-want +got):\n%s", diff)
			}
		})
	}
}

// marked marks the models d and e, which are invalid, as the test prints them.
func marked(names []string) []string {
	var out []string
	for _, n := range names {
		if n == "d" || n == "e" {
			n = "!" + n
		}
		out = append(out, n)
	}
	return out
}
