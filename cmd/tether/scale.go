package main

import (
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// incrementalRenderer renders each revision with render.Incremental: only the
// units whose inputs changed since the last revision are rendered, and only
// those of this daemon's shard (issue 15).
func incrementalRenderer(opts render.Options, shard render.Shard) reconcile.Renderer {
	inc := render.NewIncremental(opts).ForShard(shard)
	return func(snap source.Snapshot, hooks render.Hooks) (*render.Result, error) {
		return inc.Render(snap.Dir, snap, hooks)
	}
}

// shardFlags make `tether run` one shard of a deployment (PRODUCT.md §8).
type shardFlags struct {
	name, by     string
	count, index int
}

func (s *shardFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.name, "shard", "", "reconcile only the models labelled tether.dev/shard=`NAME` in model.yaml, as instance <instance>-NAME with its own Lease and prune guard (default: the unlabelled models and the bundles)")
	fs.StringVar(&s.by, "shard-by", "label", "how models are split between shards: label (tether.dev/shard in model.yaml) or hash (a stable hash of the model name, with --shards and --shard-index; shard 0 also takes the bundles)")
	fs.IntVar(&s.count, "shards", 0, "with --shard-by hash: how many shards split the models")
	fs.IntVar(&s.index, "shard-index", 0, "with --shard-by hash: this daemon's shard, from 0 to --shards minus 1; its instance is <instance>-<index>")
	setGroup(fs, groupCluster, "shard", "shard-by", "shards", "shard-index")
}

// check validates the shard flags, and with them instance (--instance).
func (s *shardFlags) check(instance string) error {
	if err := s.checkMode(); err != nil {
		return err
	}
	if suffix := s.suffix(); instance != "" && suffix != "" {
		if err := reconcile.ValidateInstance(instance + "-" + suffix); err != nil {
			return usagef("run: --instance with the shard %q: %v", suffix, err)
		}
	}
	return nil
}

func (s *shardFlags) checkMode() error {
	switch s.by {
	case "label":
		if s.count != 0 || s.index != 0 {
			return usagef("run: --shards and --shard-index go with --shard-by hash")
		}
		if s.name == "" {
			return nil
		}
		if msgs := validation.IsDNS1123Label(s.name); len(msgs) > 0 {
			return usagef("run: --shard %q: %s", s.name, strings.Join(msgs, "; "))
		}
		if len(s.name) > render.MaxShardLength {
			return usagef("run: --shard %q: at most %d characters", s.name, render.MaxShardLength)
		}
	case "hash":
		if s.name != "" {
			return usagef("run: --shard-by hash names the shard by --shard-index; give no --shard")
		}
		if s.count < 1 || s.index < 0 || s.index >= s.count {
			return usagef("run: --shard-by hash needs --shards N (at least 1) and --shard-index from 0 to N-1 (got %d of %d)", s.index, s.count)
		}
	default:
		return usagef("run: --shard-by %q: expected label or hash", s.by)
	}
	return nil
}

// selection is the units this daemon reconciles.
func (s *shardFlags) selection() render.Shard {
	if s.by == "hash" {
		return render.Shard{Count: s.count, Index: s.index}
	}
	return render.Shard{Name: s.name}
}

// suffix names the shard in its instance: its name, or its index; "" for the
// unsharded daemon.
func (s *shardFlags) suffix() string {
	if s.by == "hash" {
		return strconv.Itoa(s.index)
	}
	return s.name
}

// identity is this daemon's instance and its group, the instance of the
// deployment's unsharded daemon: --instance (or the default derived from the
// source) and, for a shard, that name with -<shard> (check validated it).
func (s *shardFlags) identity(instance, url, ref, path string) (string, string) {
	suffix := s.suffix()
	if instance == "" {
		return reconcile.DefaultShardInstance(url, ref, path, suffix), reconcile.DefaultInstance(url, ref, path)
	}
	if suffix == "" {
		return instance, instance
	}
	return instance + "-" + suffix, instance
}
