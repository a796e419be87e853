package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"sync"
)

// renderVersion stands for the rendering code in every input key: bump it
// when a change to render makes the same inputs render differently, so that
// no result outlives the code that made it (keys live in memory only today,
// so this matters once they are kept across restarts).
const renderVersion = "tether-render-1"

// Tree gives the content hashes of one revision's folders and files without
// reading them (source.Snapshot implements it from the Git tree). ok is false
// when a path is absent or its hash would not cover what it points to (a
// symlink); the unit is then rendered again.
type Tree interface {
	TreeHash(p string) (hash string, ok bool)
}

// Incremental renders successive revisions of one repository and renders a
// unit again only when its inputs changed (issue 15): its folder, the folders
// outside it that its build read (components), tether.yaml as decoded, the
// daemon's options and the rendering code. A unit whose input key is the one
// of its last render is returned as then, with Reused set and no Objects: the
// caller keeps what it needs of a unit's objects (the loop keeps them
// encoded), so a thousand rendered models are not held twice. Invalid units
// are never reused: their errors may come from anything. It is for one
// caller at a time.
type Incremental struct {
	flags  Options
	shard  *Shard                   // nil: every unit (see ForShard)
	units  map[string]*renderedUnit // by kind and source
	labels map[string]peekedShard   // tether.dev/shard labels read, by source (label shards only)
}

// renderedUnit is what Incremental remembers of one unit's last render.
type renderedUnit struct {
	key  string   // input key of that render
	deps []string // folders outside the unit's own that it read
	unit Unit     // without Objects
	objs []string // objectKey of each object, for the duplicate check
}

// NewIncremental renders with the daemon's options flags.
func NewIncremental(flags Options) *Incremental {
	return &Incremental{flags: flags, units: map[string]*renderedUnit{}, labels: map[string]peekedShard{}}
}

// ForShard makes inc render only the units of shard s; the models of other
// shards are listed in Result.Elsewhere, and those whose shard cannot be
// read in Result.Undecided (the unsharded instance renders them instead, as
// invalid units).
func (inc *Incremental) ForShard(s Shard) *Incremental {
	inc.shard = &s
	return inc
}

// unitRef names a unit to render.
type unitRef struct{ kind, source string }

// Hooks let the caller of Incremental.Render take part in it. Both are called
// from the rendering goroutines, so they must be safe for concurrent use.
type Hooks struct {
	// Keep is asked about each unit whose inputs did not change: true (or a
	// nil Keep) returns it Reused; false renders it again (the caller lost
	// its objects).
	Keep func(*Unit) bool
	// Rendered, if set, gets each valid unit right after it was rendered. It
	// may take the unit's Objects (and set them nil), so that a large
	// repository's objects are never all held at once, or set Err, which
	// keeps the unit from being reused.
	Rendered func(*Unit)
}

// Render renders the revision checked out in dir, whose hashes tree gives,
// like Repository, with the caller's hooks.
func (inc *Incremental) Render(dir string, tree Tree, hooks Hooks) (*Result, error) {
	settings, err := LoadSettings(dir)
	if err != nil {
		return nil, err
	}
	opts := settings.Resolve(inc.flags)
	folders, err := modelFolders(dir)
	if err != nil {
		return nil, err
	}
	res := &Result{Settings: settings}
	refs := inc.selectUnits(dir, tree, settings.Bundles, folders, res)
	base := baseKey(settings, opts)
	units, objs := make([]Unit, len(refs)), make([][]string, len(refs))
	var mu sync.Mutex
	next := make(map[string]*renderedUnit, len(units))
	parallel(len(refs), func(i int) {
		ref := refs[i]
		r := inc.reuse(tree, base, ref.kind, ref.source, hooks.Keep)
		if r == nil {
			r = inc.load(dir, tree, base, ref.kind, ref.source, opts, hooks.Rendered)
		}
		units[i], objs[i] = r.unit, r.objs
		if r.key != "" {
			r.unit.Objects = nil
			mu.Lock()
			next[ref.kind+"\x00"+ref.source] = r
			mu.Unlock()
		}
	})
	inc.units = next
	rejectDuplicates(units, objs)
	res.Units = units
	return res, nil
}

// selectUnits lists the units to render: the bundles, then the model folders,
// those of this shard only (the others go to res.Elsewhere or res.Undecided).
func (inc *Incremental) selectUnits(dir string, tree Tree, bundles, folders []string, res *Result) []unitRef {
	var refs []unitRef
	if inc.shard == nil || inc.shard.Bundles() {
		for _, b := range bundles {
			refs = append(refs, unitRef{KindBundleUnit, b})
		}
	}
	peeked := make([]peekedShard, len(folders))
	if inc.shard != nil && !inc.shard.Hashed() {
		parallel(len(folders), func(i int) { peeked[i] = inc.shardOf(dir, tree, ModelsDir+"/"+folders[i]) })
		inc.labels = make(map[string]peekedShard, len(folders))
	}
	for i, folder := range folders {
		source := ModelsDir + "/" + folder
		if p := peeked[i]; p.hash != "" {
			inc.labels[source] = p
		}
		switch {
		case inc.shard == nil:
		case !inc.shard.Hashed() && !peeked[i].ok:
			if inc.shard.Name != "" {
				res.Undecided = append(res.Undecided, folder)
				continue
			}
		case !inc.shard.owns(folder, peeked[i].label):
			res.Elsewhere = append(res.Elsewhere, folder)
			continue
		}
		refs = append(refs, unitRef{KindModelUnit, source})
	}
	return refs
}

// reuse returns the last render of a unit when its inputs are unchanged and
// keep agrees, marked Reused; nil otherwise.
func (inc *Incremental) reuse(tree Tree, base, kind, source string, keep func(*Unit) bool) *renderedUnit {
	prev := inc.units[kind+"\x00"+source]
	if prev == nil {
		return nil
	}
	if key, ok := unitKey(tree, base, kind, source, prev.deps); !ok || key != prev.key {
		return nil
	}
	u := prev.unit
	u.Reused = true
	if keep != nil && !keep(&u) {
		return nil
	}
	r := *prev
	r.unit = u
	return &r
}

// load renders one unit, hands it to rendered if it is valid, and works out
// its input key; the key is empty when the unit must not be reused (invalid,
// or an input without a hash).
func (inc *Incremental) load(dir string, tree Tree, base, kind, source string, opts Options, rendered func(*Unit)) *renderedUnit {
	var u Unit
	var deps []string
	if kind == KindBundleUnit {
		u, deps = loadBundle(dir, source, opts)
	} else {
		u, deps = loadModel(dir, source[len(ModelsDir)+1:], opts)
	}
	r := &renderedUnit{unit: u, deps: deps, objs: objectKeys(u.Objects)}
	if r.unit.Err == nil && rendered != nil {
		rendered(&r.unit)
	}
	if r.unit.Err == nil {
		r.key, _ = unitKey(tree, base, kind, source, deps)
	}
	return r
}

// baseKey digests what every unit's render depends on besides its own
// folders: the rendering code, tether.yaml as decoded and the options.
func baseKey(settings Settings, opts Options) string {
	data, err := json.Marshal(struct {
		Version  string
		Settings Settings
		Options  Options
	}{renderVersion, settings, opts})
	if err != nil {
		panic("render: input key: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// unitKey digests a unit's inputs: base, its folder and the folders deps, by
// their Git tree hashes. ok is false when a hash is unknown.
func unitKey(tree Tree, base, kind, source string, deps []string) (string, bool) {
	if tree == nil {
		return "", false
	}
	h := sha256.New()
	field(h, base, kind)
	for _, p := range append([]string{source}, deps...) {
		sum, ok := tree.TreeHash(p)
		if !ok {
			return "", false
		}
		field(h, p, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// field writes strings to h, each ended by a NUL, so no two lists of strings
// digest alike.
func field(h hash.Hash, values ...string) {
	for _, v := range values {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
}
