package plan

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
)

// Revision is one revision of the models repository, rendered.
type Revision struct {
	Ref    string         // as given: main, origin/main, HEAD
	Commit string         // full hash
	Result *render.Result // nil when Err is set
	Err    error          // the revision failed as a whole (an invalid tether.yaml)
}

func (r Revision) ref() RevisionRef { return RevisionRef{Ref: r.Ref, Commit: r.Commit} }

// Options are the settings a plan shares with the daemon, and what it shows.
type Options struct {
	MaxPrune reconcile.PruneLimit // --max-prune
	Models   []string             // plan only these models or bundles; empty: all
	Path     string               // the repository's subfolder, named in the plan
}

// entry is one rendered object and the unit that renders it.
type entry struct {
	unit *render.Unit
	obj  *unstructured.Unstructured
}

// side indexes one revision: its units in order and the objects of its valid ones.
type side struct {
	units   map[string]*render.Unit
	order   []string
	objects map[reconcile.Key]entry
}

func sideOf(res *render.Result) side {
	s := side{units: map[string]*render.Unit{}, objects: map[reconcile.Key]entry{}}
	if res == nil {
		return s
	}
	for i := range res.Units {
		u := &res.Units[i]
		s.units[u.Name] = u
		s.order = append(s.order, u.Name)
		if u.Err != nil {
			continue
		}
		for _, obj := range u.Objects {
			s.objects[reconcile.KeyOf(obj)] = entry{u, obj}
		}
	}
	return s
}

// objectsOf is a unit's objects, none for a missing or invalid unit.
func objectsOf(u *render.Unit) []*unstructured.Unstructured {
	if u == nil || u.Err != nil {
		return nil
	}
	return u.Objects
}

// Offline plans the head against the base revision from their renders alone:
// what is created, changed and pruned, and the mass-deletion guard's verdict
// with the base's objects as the managed ones.
func Offline(base, head Revision, opts Options) *Plan {
	p := &Plan{Base: base.ref(), Head: head.ref(), Path: opts.Path, Models: opts.Models}
	p.Guard.Limit = opts.MaxPrune.String()
	if base.Err != nil {
		p.Warnings = append(p.Warnings, fmt.Sprintf("the base revision's %s is invalid, so the head is compared with nothing: %v", render.SettingsFile, base.Err))
	}
	if head.Err != nil {
		p.Errors = append(p.Errors, fmt.Sprintf("%s is invalid: nothing of this revision would be applied or pruned", render.SettingsFile))
		p.Errors = append(p.Errors, errorLines(head.Err)...)
		p.finish()
		return p
	}
	c := &comparison{base: sideOf(base.Result), head: sideOf(head.Result)}
	all := c.units()
	p.Guard = decideGuard(opts.MaxPrune, countDeletions(all), len(c.base.objects), len(head.Result.Units) == 0, head.Result.Settings.AllowMassPrune)
	p.Units, p.Errors = selectUnits(all, opts.Models)
	p.finish()
	return p
}

// comparison works out, unit by unit, what the head changes in the base.
type comparison struct {
	base, head side
}

// units plans every unit: the head's in order, then those it removed.
func (c *comparison) units() []Unit {
	var out []Unit
	for _, name := range c.head.order {
		out = append(out, c.unit(name))
	}
	for _, name := range c.base.order {
		if _, ok := c.head.units[name]; !ok {
			out = append(out, c.unit(name))
		}
	}
	return out
}

func (c *comparison) unit(name string) Unit {
	b, h := c.base.units[name], c.head.units[name]
	ref := h
	if ref == nil {
		ref = b
	}
	u := Unit{Name: name, Kind: unitKind(ref), Source: ref.Source, Namespace: ref.Namespace}
	before := usageOf(objectsOf(b))
	u.Resources = Change{Base: before, Head: before}
	switch {
	case h == nil:
		u.Status, u.Objects, u.Resources.Head = StatusRemoved, c.gone(b, false), Usage{}
		if b.Err != nil {
			u.Notes = append(u.Notes, "invalid in the base revision: its objects are unknown offline (--cluster reads them from the inventory)")
		}
	case h.Err != nil:
		u.Status, u.Errors, u.Warnings = StatusInvalid, errorLines(h.Err), h.Warnings
		u.Notes = append(u.Notes, "invalid: nothing of it is applied or pruned; its live objects stay as last applied")
	case h.Suspend:
		u.Status, u.Warnings = StatusSuspended, h.Warnings
		u.Notes = append(u.Notes, "suspended (spec.suspend): nothing of it is applied, pruned or reverted")
	default:
		u.Warnings = h.Warnings
		u.Objects = c.compare(b, h)
		u.Resources.Head = usageOf(h.Objects)
		u.Status = statusOf(b, u.Objects)
		if b != nil && b.Err != nil {
			u.Notes = append(u.Notes, "invalid in the base revision: compared with nothing")
		}
		for _, o := range h.Objects {
			u.Warnings = append(u.Warnings, c.imageWarnings(o, h.Warnings)...)
		}
	}
	return u
}

// compare plans the objects of a valid head unit against its base.
func (c *comparison) compare(b, h *render.Unit) []Object {
	retired := c.retiredRuns(b)
	var out []Object
	for _, obj := range h.Objects {
		key := reconcile.KeyOf(obj)
		o := newObject(obj)
		prev, found := c.base.objects[key]
		switch {
		case !found:
			o.Action, o.Diff = ActionCreate, objectDiff(noFile, headLabel(key), nil, obj)
			if isRun(key) {
				o.Notes = append(o.Notes, runNote(retired))
			}
		case prev.unit.Name != h.Name:
			o.Action, o.Diff = ActionUpdate, objectDiff(baseLabel(key), headLabel(key), prev.obj, obj)
			o.Notes = append(o.Notes, fmt.Sprintf("moves from %s %s: handed over, not recreated", unitKind(prev.unit), prev.unit.Name))
			o.Blockers = immutable(prev.obj, obj)
		case render.ObjectsHash(prev.obj) == render.ObjectsHash(obj):
			o.Action = ActionUnchanged
		default:
			o.Action, o.Diff = ActionUpdate, objectDiff(baseLabel(key), headLabel(key), prev.obj, obj)
			o.Blockers = immutable(prev.obj, obj)
		}
		out = append(out, o)
	}
	return append(out, c.gone(b, true)...)
}

// gone plans the objects of base unit b that no unit of the head renders
// (one that another unit renders is handed over, not pruned): pruned, except
// that in a unit that stays, training Jobs are previous runs, kept.
func (c *comparison) gone(b *render.Unit, keepRuns bool) []Object {
	var out []Object
	for _, obj := range objectsOf(b) {
		key := reconcile.KeyOf(obj)
		if _, kept := c.head.objects[key]; kept {
			continue
		}
		o := newObject(obj)
		if keepRuns && isRun(key) {
			o.Action = ActionRetain
			o.Notes = append(o.Notes, retainNote)
		} else {
			o.Action, o.Diff = ActionDelete, objectDiff(baseLabel(key), noFile, obj, nil)
		}
		out = append(out, o)
	}
	return out
}

// retiredRuns are the base unit's Jobs the head no longer renders.
func (c *comparison) retiredRuns(b *render.Unit) []string {
	var out []string
	for _, obj := range objectsOf(b) {
		key := reconcile.KeyOf(obj)
		if _, kept := c.head.objects[key]; isRun(key) && !kept {
			out = append(out, key.Name)
		}
	}
	return out
}

// imageWarnings warns about unpinned images of an object the head creates or changes.
func (c *comparison) imageWarnings(obj *unstructured.Unstructured, known []string) []string {
	if prev, found := c.base.objects[reconcile.KeyOf(obj)]; found && render.ObjectsHash(prev.obj) == render.ObjectsHash(obj) {
		return nil
	}
	return unpinnedImages(obj, known)
}

func runNote(previous []string) string {
	if len(previous) == 0 {
		return "starts a training run"
	}
	return fmt.Sprintf("a new training run: the Job's name is its content hash, so a changed training spec is a new Job; the previous run (%s) is kept until keepRuns retires it",
		joinComma(previous))
}

func statusOf(b *render.Unit, objs []Object) Status {
	if b == nil {
		return StatusAdded
	}
	for i := range objs {
		if objs[i].changes() {
			return StatusChanged
		}
	}
	return StatusUnchanged
}

func newObject(obj *unstructured.Unstructured) Object {
	return Object{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// Diff labels.
const noFile = "/dev/null"

func baseLabel(k reconcile.Key) string { return "base/" + k.String() }
func headLabel(k reconcile.Key) string { return "head/" + k.String() }

// selectUnits keeps the units named in models (all when empty); a name in
// neither revision is an error.
func selectUnits(units []Unit, models []string) ([]Unit, []string) {
	if len(models) == 0 {
		return units, nil
	}
	var out []Unit
	var errs []string
	for _, name := range models {
		found := false
		for _, u := range units {
			if u.Name == name {
				out, found = append(out, u), true
			}
		}
		if !found {
			errs = append(errs, fmt.Sprintf("model %q is in neither revision", name))
		}
	}
	return out, errs
}
