package reconcile

import (
	"context"
	"time"
)

// render renders the revision. A repository-wide failure stalls the pass:
// nothing is applied and, above all, nothing is pruned, until a new revision.
func (l *Loop) render(_ context.Context, p *pass) (bool, error) {
	res, err := l.cfg.Render(p.snap.Dir)
	if err != nil {
		if p.newRev {
			l.emit(Event{Type: EventSyncFailed, Time: time.Now(), Revision: p.snap.Revision, Message: err.Error()})
		}
		l.status.setError(err.Error())
		return false, stalled{err}
	}
	p.compact(res, l.cfg.Inventory.keyed)
	l.status.setError("")
	return false, nil
}
