package reconcile

import (
	"context"
	"time"

	"github.com/tether-ml/tether/render"
)

// render renders the revision. A repository-wide failure stalls the pass:
// nothing is applied and, above all, nothing is pruned, until a new revision.
func (l *Loop) render(ctx context.Context, p *pass) (bool, error) {
	fresh := newFreshUnits(l.cfg.Inventory.keyed)
	res, err := l.cfg.Render(p.snap, render.Hooks{Keep: l.keepEncoded, Rendered: fresh.take})
	if err != nil {
		if p.newRev {
			l.emit(Event{Type: EventSyncFailed, Time: time.Now(), Revision: p.snap.Revision, Message: err.Error()})
		}
		l.status.setError(err.Error())
		return false, stalled{err}
	}
	l.keepUndecided(res)
	l.encoded = p.compact(res, l.cfg.Inventory.keyed, l.encoded, fresh)
	l.moveShards(ctx, p, res)
	l.status.setError("")
	return false, nil
}

// encodedUnits are the encoded objects of each valid unit of the last render,
// by name. A unit the renderer reused (its inputs did not change) takes them
// over instead of being rendered and encoded again: with a thousand models,
// one changed model costs one render, not a thousand (issue 15).
type encodedUnits map[string]encodedUnit

type encodedUnit struct {
	hash    string    // render's content hash, not keyed
	objs    []desired // as compact made them, before the apply step placed any
	trimmed bool      // the objects' bodies are dropped (see trimEncoded)
}

// keepEncoded tells the renderer whether it may reuse u: its objects are
// kept, with their bodies unless it will not be written (a unit whose
// taken-over record is read again is written again: see moveShards).
func (l *Loop) keepEncoded(u *render.Unit) bool {
	return l.encoded.has(u) && !(l.encoded[u.Name].trimmed && l.moves.recheck[u.Name])
}

// trimEncoded drops the bodies of the kept objects of every unit that is
// applied as rendered, each object's member holding what was applied: the
// apply step writes none of them while the unit is reused (prepare finds it
// unchanged and complete), and a changed unit is rendered again. A thousand
// models' bodies are about 6 MiB the daemon would otherwise keep. It runs at
// the end of the apply step.
func (l *Loop) trimEncoded() {
	for name, e := range l.encoded {
		if e.trimmed {
			continue
		}
		if st, ok := l.state.unit(name); !ok || st.hash != l.cfg.Inventory.keyed(e.hash) || !l.appliedAll(e.objs) {
			continue
		}
		for i := range e.objs {
			e.objs[i].body = nil
		}
		e.trimmed = true
		l.encoded[name] = e
	}
}

// has reports whether the objects of u's last render are kept. The renderer
// calls it from several goroutines; the map is not written meanwhile.
func (e encodedUnits) has(u *render.Unit) bool {
	k, ok := e[u.Name]
	return ok && k.hash == u.Hash
}
