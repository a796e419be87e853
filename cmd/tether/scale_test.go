package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
)

func TestShardIdentity(t *testing.T) {
	const url, ref = "https://git.example.com/ml/models.git", "refs/heads/main"
	group := reconcile.DefaultInstance(url, ref, "")
	tests := []struct {
		name                    string
		flags                   shardFlags
		instance                string
		wantInstance, wantGroup string
		wantShard               render.Shard
	}{
		{"unsharded", shardFlags{by: "label"}, "", group, group, render.Shard{}},
		{"labelled shard", shardFlags{by: "label", name: "gpu"}, "", group + "-gpu", group, render.Shard{Name: "gpu"}},
		{"labelled shard of an instance", shardFlags{by: "label", name: "gpu"}, "prod", "prod-gpu", "prod", render.Shard{Name: "gpu"}},
		{"hashed shard", shardFlags{by: "hash", count: 3, index: 2}, "prod", "prod-2", "prod", render.Shard{Count: 3, Index: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.flags.check(tt.instance); err != nil {
				t.Fatal(err)
			}
			instance, grp := tt.flags.identity(tt.instance, url, ref, "")
			got := []any{instance, grp, tt.flags.selection()}
			if diff := cmp.Diff([]any{tt.wantInstance, tt.wantGroup, tt.wantShard}, got); diff != "" {
				t.Errorf("instance, group, selection (-want +got):\n%s", diff)
			}
		})
	}
}
