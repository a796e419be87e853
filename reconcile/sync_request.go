package reconcile

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AnnotationSyncRequested on a unit's inventory record (the ConfigMap
// tether-<instance>-model-<name>) asks for one sync of the revision a sync
// window holds back, when every window blocking it has manualSync: true. The
// value is an RFC 3339 time; one after the hold began syncs the held
// revision once:
//
//	kubectl annotate --overwrite configmap tether-<instance>-model-<name> tether.dev/sync-requested-at=$(date -u +%FT%TZ)
const AnnotationSyncRequested = "tether.dev/sync-requested-at"

// syncRequests reads the sync requests on this instance's records, by
// record name, with one list request. tether never writes the annotation, so
// its server-side applies of a record leave it alone.
func (inv *Inventory) syncRequests(ctx context.Context) (map[string]string, error) {
	list, err := inv.applier.clientset.CoreV1().ConfigMaps(inv.namespace).List(ctx,
		metav1.ListOptions{LabelSelector: LabelInstance + "=" + inv.instance})
	if err != nil {
		return nil, fmt.Errorf("inventory: list ConfigMaps in %s: %w", inv.namespace, err)
	}
	out := map[string]string{}
	for _, cm := range list.Items {
		if v, ok := cm.Annotations[AnnotationSyncRequested]; ok {
			out[cm.Name] = v
		}
	}
	return out, nil
}

// requested reports whether the annotation value asks for a sync of a hold
// that began at since; when it does not, the reason says why, for /status.
func requested(value string, since time.Time) (ok bool, reason string) {
	at, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return false, fmt.Sprintf("%s %q is not an RFC 3339 time such as 2026-11-27T18:00:00Z; ignored", AnnotationSyncRequested, value)
	}
	if !at.After(since) {
		return false, fmt.Sprintf("%s %s is not after the hold began (%s); ignored", AnnotationSyncRequested, value, since.UTC().Format(time.RFC3339))
	}
	return true, ""
}

// readRequests reads the sync requests once per pass. A failed read counts as
// no request, and is logged.
func (l *Loop) readRequests(ctx context.Context, p *pass) {
	if p.requests != nil {
		return
	}
	requests, err := l.cfg.Inventory.syncRequests(ctx)
	if err != nil {
		l.cfg.Log.Error("sync requests unreadable", "err", err)
		requests = map[string]string{}
	}
	p.requests = requests
}

// syncRequested looks for a sync requested by hand of a unit held since
// since: whether to sync it now and, if not, what became of the request.
func (l *Loop) syncRequested(ctx context.Context, p *pass, unit string, since time.Time) (bool, string) {
	l.readRequests(ctx, p)
	v, ok := p.requests[parentName(l.cfg.Inventory.instance, l.state.kindOf(unit), unit)]
	if !ok {
		return false, ""
	}
	return requested(v, since)
}
