package reconcile

import (
	"context"
	"errors"
	"time"

	"github.com/tether-ml/tether/source"
)

// fetch syncs the source. An unchanged head with nothing to retry ends the
// pass; a failure is reported once per distinct cause and retried with backoff.
func (l *Loop) fetch(ctx context.Context, p *pass) (bool, error) {
	snap, changed, err := l.cfg.Source.Sync(ctx)
	if err != nil {
		l.fetchFailed(err)
		return false, err
	}
	l.fetchRecovered(snap.Revision)
	p.snap, p.newRev = snap, snap.Revision != l.revision
	l.status.setRevision(snap.Revision)
	return !changed && !l.retry && !p.newRev && !l.lost.any() && !l.windowDue(ctx, p), nil
}

// fetchFailed emits a fetch error once per distinct failure. A head refused by
// commit verification is its own event: the last good revision stays applied.
func (l *Loop) fetchFailed(err error) {
	l.failures++
	if failureKey(err) == l.lastErr {
		return
	}
	ev := Event{Type: EventFetchFailed, Time: time.Now(), Message: err.Error()}
	var ve *source.VerificationError
	if errors.As(err, &ve) {
		ev.Type, ev.Revision = EventVerificationFailed, ve.Revision
	}
	l.emit(ev)
	l.lastErr = failureKey(err)
	l.status.setError(err.Error())
}

// failureKey says which failures are "the same": for Git errors their kind
// (unreachable, auth, ...) and repository, whichever step hit it, so one outage
// is reported once even when it starts between the ls-remote and the fetch.
func failureKey(err error) string {
	var se *source.Error
	if errors.As(err, &se) && se.Kind != nil {
		return se.Kind.Error() + " " + se.URL
	}
	return err.Error()
}

// fetchRecovered ends an outage: logged once, since recovery is no event.
func (l *Loop) fetchRecovered(revision string) {
	if l.lastErr != "" {
		l.cfg.Log.Info("fetch recovered", "revision", revision)
		l.status.setError("")
	}
	l.lastErr, l.failures = "", 0
}
