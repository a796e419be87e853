package render

import (
	"errors"
	"fmt"
	"hash/fnv"
	"path/filepath"

	yaml "go.yaml.in/yaml/v3"
)

// LabelShard in a model's metadata.labels names the shard that reconciles it
// (PRODUCT.md §8). Unlike the model's other labels it is not copied onto the
// rendered objects: moving a model to another shard changes its owner, not
// its objects (a pod template label would restart the pods, and a training
// Job's template cannot change at all).
const LabelShard = "tether.dev/shard"

// MaxShardLength bounds a shard name, which becomes part of the daemon's
// instance name (at most 40 characters).
const MaxShardLength = 20

// Shard selects the units one daemon of a sharded deployment reconciles
// (issue 15). The zero Shard is the unsharded instance: the models without a
// tether.dev/shard label, and the bundles.
type Shard struct {
	// Name: models labelled tether.dev/shard=Name (Count 0).
	Name string
	// Count > 0 shards by a hash of the model name instead of labels: this
	// shard takes the models whose name hashes to Index (0 <= Index < Count);
	// shard 0 also takes the bundles. Labels are not read.
	Count, Index int
}

// Hashed reports whether models are split by a hash of their name.
func (s Shard) Hashed() bool { return s.Count > 0 }

// Bundles reports whether this shard reconciles the bundles.
func (s Shard) Bundles() bool {
	if s.Hashed() {
		return s.Index == 0
	}
	return s.Name == ""
}

// owns reports whether the model named name, labelled label, is this
// shard's.
func (s Shard) owns(name, label string) bool {
	if s.Hashed() {
		return HashShard(name, s.Count) == s.Index
	}
	return label == s.Name
}

// HashShard is the shard of the model named name among count: FNV-1a of the
// name, modulo count. It never changes for a name, so adding a shard moves
// only the models whose hash now falls elsewhere.
func HashShard(name string, count int) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % uint32(count))
}

// peekedShard is a model folder's tether.dev/shard label as last read, with
// the folder's tree hash then.
type peekedShard struct {
	hash, label string
	ok          bool // the label could be read (the spec parses as YAML)
}

// shardOf returns the tether.dev/shard label of the model in folder source,
// reading model.yaml only when the folder's tree hash changed since the last
// revision. ok is false when the spec cannot be read far enough to tell (a
// missing file, broken YAML, a label that is not a string): then no shard
// can know whose model it is.
func (inc *Incremental) shardOf(dir string, tree Tree, source string) peekedShard {
	var hash string
	var hashed bool
	if tree != nil {
		hash, hashed = tree.TreeHash(source)
	}
	if prev, ok := inc.labels[source]; ok && hashed && prev.hash == hash {
		return prev
	}
	p := peekedShard{hash: hash}
	p.label, p.ok = readShardLabel(filepath.Join(dir, filepath.FromSlash(source), ModelFile))
	if !hashed {
		p.hash = ""
	}
	return p
}

// readShardLabel reads the tether.dev/shard label of a model spec leniently:
// the strict decode and its errors are the render's.
func readShardLabel(file string) (string, bool) {
	data, err := readSpec(file)
	if err != nil {
		return "", false
	}
	var spec struct {
		Metadata struct {
			// nodes, not values of type any: decoding a node never expands
			// an alias (see aliases.go), whatever the other labels hold
			Labels map[string]yaml.Node `yaml:"labels"`
		} `yaml:"metadata"`
	}
	if err := yaml.Unmarshal(data, &spec); err != nil {
		return "", false
	}
	n, found := spec.Metadata.Labels[LabelShard]
	if !found {
		return "", true
	}
	v := &n
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		return "", false
	}
	return v.Value, true
}

// Validate checks a shard selection: a name that is a DNS label (it becomes
// part of the daemon's identity), or an index within the count.
func (s Shard) Validate() error {
	switch {
	case s.Hashed() && s.Name != "":
		return errors.New("a hashed shard is named by its index; give no name")
	case s.Hashed() && (s.Index < 0 || s.Index >= s.Count):
		return fmt.Errorf("shard index %d is not in 0..%d", s.Index, s.Count-1)
	case !s.Hashed() && s.Count < 0:
		return fmt.Errorf("%d shards; expected a positive count", s.Count)
	}
	return nil
}
