package reconcile

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// pass is one trip of a revision through the loop's steps. Steps run one
// after another; the units of one step may run in parallel, so what they
// report about units goes through the pass's lock.
type pass struct {
	start    time.Time
	snap     source.Snapshot
	newRev   bool
	res      *render.Result          // units without their objects: see objects
	index    map[string]int          // position of each unit in res.Units, by name
	keys     map[Key]bool            // every object a valid unit renders
	unplaced map[Key]bool            // objects rendered without a namespace, keyed without one
	desired  map[string]*render.Unit // valid, rendered units by name
	objects  map[string][]desired    // encoded objects of each valid unit, by name
	reported bool                    // the pass got through every step
	saved    bool                    // the records step ran
	held     map[string]bool         // units a sync window holds back: neither applied nor pruned
	requests map[string]string       // sync requests by record name, read once (sync_request.go)

	mu      sync.Mutex
	failed  map[string]bool // units that failed to apply, prune or save
	dirty   map[string]bool // units whose record needs saving
	written map[string][]Key
	handed  map[string][]string // objects each unit took over from another, as "Kind/ns/name from model x"
	fenced  map[string]bool     // units whose record this pass wrote with a compare-and-set
}

func newPass() *pass {
	return &pass{start: time.Now(), failed: map[string]bool{}, dirty: map[string]bool{}, written: map[string][]Key{},
		handed: map[string][]string{}, fenced: map[string]bool{}, held: map[string]bool{}}
}

// compact keeps a rendered revision for the rest of the pass with each unit's
// objects encoded, so the decoded render result is garbage from here on.
// Content hashes are keyed as the records store them. A reused unit takes its
// encoded objects from prev, a unit that fresh encoded as it was rendered
// from there; it returns what the next pass may reuse.
func (p *pass) compact(res *render.Result, keyed func(string) string, prev encodedUnits, fresh *freshUnits) encodedUnits {
	p.res = &render.Result{Settings: res.Settings, Units: make([]render.Unit, len(res.Units))}
	p.desired, p.objects = map[string]*render.Unit{}, map[string][]desired{}
	p.index = make(map[string]int, len(res.Units))
	p.keys, p.unplaced = map[Key]bool{}, map[Key]bool{}
	next := make(encodedUnits, len(res.Units))
	for i, u := range res.Units {
		p.index[u.Name] = i
		if u.Err == nil {
			var objs []desired
			objs, u.Err = encodeUnit(&u, keyed, prev, fresh)
			if u.Err == nil {
				next[u.Name] = encodedUnit{hash: u.Hash, objs: objs}
				p.objects[u.Name] = slices.Clone(objs) // the apply step places them in place
				p.indexKeys(objs)
			}
			u.Hash = keyed(u.Hash)
		}
		u.Objects = nil
		p.res.Units[i] = u
		if u.Err == nil {
			p.desired[u.Name] = &p.res.Units[i]
		}
	}
	return next
}

// encodeUnit encodes the objects of a valid unit, or takes them from prev
// when the renderer reused it, or from fresh when they were encoded as the
// unit was rendered.
func encodeUnit(u *render.Unit, keyed func(string) string, prev encodedUnits, fresh *freshUnits) ([]desired, error) {
	if u.Reused {
		if !prev.has(u) {
			return nil, fmt.Errorf("%s: rendered as unchanged, but its objects were not kept", u.Source)
		}
		return prev[u.Name].objs, nil
	}
	if objs, ok := fresh.objects(u); ok {
		return objs, nil
	}
	return encodeObjects(u.Objects, keyed)
}

// freshUnits are the objects of the units rendered in this pass, encoded by
// render.Hooks.Rendered in the rendering goroutines as each unit is
// rendered, by source folder. Holding every unit's decoded objects until the
// whole revision was rendered was most of the daemon's peak memory with
// 10,000 models (290 of 400 MiB of heap, issue 15 and docs/BENCHMARKS.md).
type freshUnits struct {
	keyed func(string) string
	mu    sync.Mutex
	units map[string][]desired
}

func newFreshUnits(keyed func(string) string) *freshUnits {
	return &freshUnits{keyed: keyed, units: map[string][]desired{}}
}

// take encodes u's objects and drops the decoded ones; an object that cannot
// be encoded makes the unit invalid. It is render.Hooks.Rendered.
func (f *freshUnits) take(u *render.Unit) {
	objs, err := encodeObjects(u.Objects, f.keyed)
	u.Objects = nil
	if err != nil {
		u.Err = err
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.units[u.Source] = objs
}

// objects returns the encoded objects of u, if take encoded them; a nil f
// encoded none.
func (f *freshUnits) objects(u *render.Unit) ([]desired, bool) {
	if f == nil {
		return nil, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	objs, ok := f.units[u.Source]
	return objs, ok
}

// encodeObjects encodes rendered objects, their content hashes keyed.
func encodeObjects(rendered []*unstructured.Unstructured, keyed func(string) string) ([]desired, error) {
	objs := make([]desired, 0, len(rendered))
	for _, obj := range rendered {
		d, err := compact(obj)
		if err != nil {
			return nil, err
		}
		d.hash = keyed(d.hash)
		objs = append(objs, d)
	}
	return objs, nil
}

func (p *pass) indexKeys(objs []desired) {
	for _, d := range objs {
		if d.place {
			p.unplaced[d.key] = true
		} else {
			p.keys[d.key] = true
		}
	}
}

// rendered returns the unit of this revision named name, valid or not.
func (p *pass) rendered(name string) (*render.Unit, bool) {
	i, ok := p.index[name]
	if !ok {
		return nil, false
	}
	return &p.res.Units[i], true
}

// unitHash is the content hash of a valid unit in this pass; "" for a unit
// that did not render (or left Git).
func (p *pass) unitHash(name string) string {
	if u, ok := p.desired[name]; ok {
		return u.Hash
	}
	return ""
}

func (p *pass) fail(unit string) {
	p.mu.Lock()
	p.failed[unit] = true
	p.mu.Unlock()
}

// touch marks a unit whose record must be saved (or deleted).
func (p *pass) touch(unit string) {
	p.mu.Lock()
	p.dirty[unit] = true
	p.mu.Unlock()
}

// wrote counts one object written for unit, whose record then needs saving.
func (p *pass) wrote(unit string, key Key) {
	p.mu.Lock()
	p.dirty[unit] = true
	p.written[unit] = append(p.written[unit], key)
	p.mu.Unlock()
}

func (p *pass) isFenced(unit string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fenced[unit]
}

func (p *pass) setFenced(unit string) {
	p.mu.Lock()
	p.fenced[unit] = true
	p.mu.Unlock()
}

// handedOver records an object unit took over from another unit.
func (p *pass) handedOver(unit, what string) {
	p.mu.Lock()
	p.handed[unit] = append(p.handed[unit], what)
	p.mu.Unlock()
}

func (p *pass) handovers(unit string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.handed[unit]
}

// renders reports whether the valid unit named unit renders key in this pass.
// An object not yet placed in a namespace matches key in any namespace: when
// in doubt, it is rendered.
func (p *pass) renders(unit string, key Key) bool {
	for _, d := range p.objects[unit] {
		if d.key == key || (d.place && d.key.Namespace == "" && d.key.Group == key.Group && d.key.Kind == key.Kind && d.key.Name == key.Name) {
			return true
		}
	}
	return false
}

// renderedAnywhere reports whether any valid unit renders key in this pass:
// such an object is never pruned. An object not yet placed in a namespace
// matches key in any namespace.
func (p *pass) renderedAnywhere(key Key) bool {
	anyNS := key
	anyNS.Namespace = ""
	return p.keys[key] || p.unplaced[anyNS]
}

// writes returns the objects written for unit in this pass.
func (p *pass) writes(unit string) []Key {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written[unit]
}

func (p *pass) hasFailed(unit string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed[unit]
}

func (p *pass) failures() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.failed)
}

func (p *pass) dirtyUnits() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return sortedKeys(p.dirty)
}

// applyWorkers bounds how many units are written at once. Units are isolated,
// and API requests spend most of their time waiting on the server. On a busy
// API server (here: the controllers creating pods for 1000 new models) 32 in
// flight gave a cold apply of 300 models in 24–27 s over three runs, 8 in
// 20–53 s; API Priority and Fairness queues what the server cannot take. Argo
// CD's default is 20 parallel kubectl applies.
const applyWorkers = 32

// parallel calls fn for each item with at most applyWorkers at a time and
// returns when all are done.
func parallel[T any](items []T, fn func(T)) {
	sem := make(chan struct{}, applyWorkers)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(it)
		})
	}
	wg.Wait()
}
