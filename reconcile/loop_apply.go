package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/tether-ml/tether/render"
)

// Apply stages: namespaces and CRDs first, then cluster-wide RBAC, then the rest.
const (
	stageFoundation = iota
	stageClusterRBAC
	stageRest
	stageCount
)

// writeTimeout bounds one write; writes run on a context that survives
// cancellation, so SIGTERM never leaves an object or a record half-written.
const writeTimeout = 30 * time.Second

func stageOf(kind string) int {
	switch kind {
	case "Namespace", "CustomResourceDefinition":
		return stageFoundation
	case "ClusterRole", "ClusterRoleBinding":
		return stageClusterRBAC
	}
	return stageRest
}

// unitKind is "model" or "bundle".
func unitKind(u *render.Unit) string {
	if u.Kind != "" {
		return u.Kind
	}
	return "model"
}

// apply applies every valid unit whose content changed, stage by stage across
// units, so a bundle's namespace or CRD exists before any model needs it.
func (l *Loop) apply(ctx context.Context, p *pass) (bool, error) {
	var changed []*render.Unit
	for i := range p.res.Units {
		if u := &p.res.Units[i]; l.prepare(p, u) {
			changed = append(changed, u)
		}
	}
	for stage := range stageCount {
		var mu sync.Mutex
		var crds []desired
		parallel(changed, func(u *render.Unit) {
			if p.hasFailed(u.Name) {
				return
			}
			applied, err := l.applyStage(ctx, p, u, stage)
			if err != nil {
				l.unitFailed(p, u, err)
			}
			mu.Lock()
			crds = append(crds, applied...)
			mu.Unlock()
		})
		if stage == stageFoundation {
			l.waitEstablished(ctx, crds)
		}
	}
	for _, u := range changed {
		if !p.hasFailed(u.Name) {
			l.unitApplied(p, u)
		}
	}
	l.trimEncoded()
	return false, nil
}

// prepare handles invalid and suspended units and reports whether u needs applying.
func (l *Loop) prepare(p *pass, u *render.Unit) bool {
	kind := unitKind(u)
	if u.Err != nil {
		l.state.update(u.Name, kind, func(s *unitState) { s.lastError, s.health = u.Err.Error(), HealthInvalid })
		if p.newRev {
			l.emit(Event{Type: EventModelInvalid, Time: time.Now(), Revision: p.snap.Revision, Unit: u.Name, Message: u.Err.Error()})
		}
		return false
	}
	var prev unitState
	l.state.update(u.Name, kind, func(s *unitState) {
		s.drift, s.suspend = u.Drift, u.Suspend
		prev = *s
	})
	if u.Suspend {
		return false
	}
	return prev.hash != u.Hash || !l.complete(p, u)
}

// complete reports whether every object of u has a member with its object known
// (after a restart, restored members learn their object on the first render).
// An object still to be placed in a namespace is not known yet.
func (l *Loop) complete(p *pass, u *render.Unit) bool {
	return l.appliedAll(p.objects[u.Name])
}

// appliedAll reports whether every object of objs has a member with its
// object known.
func (l *Loop) appliedAll(objs []desired) bool {
	for _, d := range objs {
		if m, _, _ := l.state.lookup(d.key); d.place || m == nil || m.body == nil {
			return false
		}
	}
	return true
}

// applyStage applies the objects of u that belong to stage and returns the
// CRDs it applied. It applies what it can and returns every error.
func (l *Loop) applyStage(ctx context.Context, p *pass, u *render.Unit, stage int) ([]desired, error) {
	var errs []error
	var crds []desired
	objs := p.objects[u.Name]
	for i := range objs {
		if stageOf(objs[i].gvk.Kind) != stage {
			continue
		}
		if ctx.Err() != nil {
			return crds, ctx.Err()
		}
		wrote, err := l.applyObject(ctx, p, u, &objs[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if wrote && objs[i].gvk.Kind == "CustomResourceDefinition" {
			crds = append(crds, objs[i])
		}
	}
	return crds, errors.Join(errs...)
}

// applyObject writes d unless the member tether applied before has the same
// content; then only its in-memory desired object is filled in. The object is
// decoded at most once, and only when it must be placed or written. An object
// another unit managed until now is handed over: written with this unit's
// ApplySet label and moved to its record, never deleted and created again.
func (l *Loop) applyObject(ctx context.Context, p *pass, u *render.Unit, d *desired) (bool, error) {
	dr := &draft{desired: d}
	if err := l.place(u, dr); err != nil {
		return false, err
	}
	unlock := l.locks.lock(d.key)
	defer unlock()
	m, _, _ := l.state.lookup(d.key)
	handover := m != nil && m.unit != u.Name
	if handover {
		if err := l.handoverAllowed(p, m, u); err != nil {
			return false, err
		}
	}
	partOf := l.applySetID(unitKind(u), u.Name)
	if !handover && m != nil && m.hash == d.hash {
		if m.body == nil {
			body, err := dr.stamp(m.revision, partOf)
			if err != nil {
				return false, err
			}
			restored := *m
			restored.body = body
			l.state.put(unitKind(u), &restored)
		}
		l.cfg.Metrics.objectUnchanged(d.key.Kind)
		return false, nil
	}
	if err := l.fence(ctx, p, u.Name); err != nil {
		return false, err
	}
	body, err := dr.stamp(p.snap.Revision, partOf)
	if err != nil {
		return false, err
	}
	next := &member{unit: u.Name, key: d.key, version: d.gvk.Version, body: body, hash: d.hash, revision: p.snap.Revision}
	if m != nil {
		next.adopted = m.adopted
	}
	if err := l.write(ctx, unitKind(u), next, m == nil); err != nil {
		return false, err
	}
	if handover {
		l.state.forget(m.unit, d.key)
		p.touch(m.unit)
		p.handedOver(u.Name, fmt.Sprintf("%s from %s %s", d.key, l.state.kindOf(m.unit), m.unit))
	}
	p.wrote(u.Name, d.key)
	l.cfg.Metrics.objectApplied(d.key.Kind)
	return true, nil
}

// handoverAllowed says whether u may take over an object the unit of m
// managed: only when that unit rendered in this revision without it, or left
// Git. A unit that failed to render may still want it: it stays with it.
func (l *Loop) handoverAllowed(p *pass, m *member, u *render.Unit) error {
	if _, ok := p.desired[m.unit]; ok {
		if p.renders(m.unit, m.key) {
			return fmt.Errorf("%s: also rendered by %s %s", m.key, l.state.kindOf(m.unit), m.unit)
		}
		return nil
	}
	if _, rendered := p.rendered(m.unit); rendered {
		return fmt.Errorf("%s: managed by %s %s, which failed to render: it stays there until %s renders again",
			m.key, l.state.kindOf(m.unit), m.unit, m.unit)
	}
	return nil
}

// place puts a namespaced object that names no namespace (a custom resource
// render could not know was namespaced) into its unit's namespace, once per
// pass. Kinds are resolved here, after the unit's CRDs were applied.
func (l *Loop) place(u *render.Unit, d *draft) error {
	if !d.place {
		return nil
	}
	namespaced, err := l.cfg.Applier.namespaced(d.gvk)
	if err != nil {
		return fmt.Errorf("%s: %w", d.key, err)
	}
	if namespaced {
		if err := d.placeIn(u.Namespace, l.cfg.Inventory.keyed); err != nil {
			return err
		}
	}
	d.place = false
	return nil
}

// write applies a member's desired object on a context that outlives
// cancellation, records the fields tether now owns, and watches its kind. The
// caller holds the object's lock. first says tether has no record of the
// object: if it exists already, tether adopts it and will never delete it.
func (l *Loop) write(ctx context.Context, kind string, m *member, first bool) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	live, gvr, err := l.cfg.Applier.ApplyJSON(wctx, m.gvk(), m.key, m.body)
	if err != nil {
		return err
	}
	next := *m
	next.setOwned(appliedFields(live.ManagedFields))
	next.resourceVersion = live.ResourceVersion
	next.adopted = !live.Created && (m.adopted || first)
	l.state.put(kind, &next)
	l.watcher.watch(gvr, m.key.GroupKind())
	return nil
}

func (l *Loop) unitFailed(p *pass, u *render.Unit, err error) {
	p.fail(u.Name)
	if errors.Is(err, context.Canceled) {
		return // stopping, not failing: the unit is applied at the next start
	}
	if p.newRev || !l.retry {
		l.emit(Event{Type: EventSyncFailed, Time: time.Now(), Revision: p.snap.Revision, Unit: u.Name, Message: err.Error()})
	}
	l.state.update(u.Name, unitKind(u), func(s *unitState) { s.lastError = err.Error() })
}

// unitApplied records a completely applied unit and retires members it no
// longer renders: they wait for pruning (or keepRuns) and are not reverted.
func (l *Loop) unitApplied(p *pass, u *render.Unit) {
	want := desiredKeys(p, u)
	for _, m := range l.state.memberList(u.Name) {
		if !want[m.key] && m.body != nil {
			retired := *m
			retired.body = nil
			l.state.put(unitKind(u), &retired)
		}
	}
	l.state.update(u.Name, unitKind(u), func(s *unitState) {
		if s.hash != u.Hash {
			p.touch(u.Name)
		}
		s.hash, s.revision, s.lastError = u.Hash, p.snap.Revision, ""
	})
	if keys := p.writes(u.Name); len(keys) > 0 {
		ev := Event{Type: EventApplied, Time: time.Now(), Revision: p.snap.Revision, Unit: u.Name,
			Count: len(keys), Objects: keys, Action: ActionApplied}
		if h := p.handovers(u.Name); len(h) > 0 {
			ev.Message = "handed over: " + strings.Join(h, ", ")
		}
		l.emit(ev)
	}
}

func desiredKeys(p *pass, u *render.Unit) map[Key]bool {
	objs := p.objects[u.Name]
	out := make(map[Key]bool, len(objs))
	for _, d := range objs {
		out[d.key] = true
	}
	return out
}

// waitEstablished waits (up to 30 s) until freshly applied CRDs are served,
// then refreshes discovery so their custom resources can be applied.
func (l *Loop) waitEstablished(ctx context.Context, crds []desired) {
	if len(crds) == 0 {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, crd := range crds {
		for time.Now().Before(deadline) && ctx.Err() == nil {
			live, err := l.cfg.Applier.get(ctx, crd.gvk, crd.key)
			if err == nil && established(live) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	l.cfg.Applier.mapper.Reset()
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
