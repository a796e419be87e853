package reconcile

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
)

// ReportingController names tether in the Kubernetes Events it records.
const ReportingController = "tether.dev/tether"

// Event rate limit per object: a burst, then one per interval (as
// client-go's legacy spam filter).
const (
	kubeEventBurst    = 10
	kubeEventInterval = 30 * time.Second
	maxEventNote      = 1000
)

// kubeEvents records outcomes as Kubernetes Events (events.k8s.io/v1), on
// the object concerned and on the unit's record, so `kubectl describe` and
// `kubectl get events` show what tether did. It never blocks: the
// broadcaster sends in the background, and an object over its rate is
// skipped.
type kubeEvents struct {
	broadcaster events.EventBroadcaster
	recorder    events.EventRecorder
	lookup      func(Key) (apiVersion string, uid types.UID) // for kubectl describe, which matches the UID

	mu     sync.Mutex
	tokens map[Key]*bucket
}

type bucket struct {
	n    float64
	last time.Time
}

func newKubeEvents(ctx context.Context, a *Applier, lookup func(Key) (string, types.UID)) *kubeEvents {
	b := events.NewBroadcaster(&events.EventSinkImpl{Interface: a.clientset.EventsV1()})
	_ = b.StartRecordingToSinkWithContext(ctx)
	return &kubeEvents{broadcaster: b, recorder: b.NewRecorder(runtime.NewScheme(), ReportingController), lookup: lookup, tokens: map[Key]*bucket{}}
}

// record turns one reconcile Event into Kubernetes Events: on ev.Object and on
// record (the unit's record ConfigMap), when there is one.
func (k *kubeEvents) record(ev Event, record *corev1.ObjectReference) {
	typ, reason, action, note := kubeEventOf(ev)
	if reason == "" {
		return
	}
	if len(note) > maxEventNote {
		note = note[:maxEventNote-1] + "…"
	}
	var object *corev1.ObjectReference
	if ev.Object != nil {
		object = k.reference(*ev.Object)
		if k.allow(*ev.Object) {
			k.recorder.Eventf(object, record, typ, reason, action, "%s", note)
		}
	}
	if record != nil && k.allow(Key{Kind: record.Kind, Namespace: record.Namespace, Name: record.Name}) {
		k.recorder.Eventf(record, object, typ, reason, action, "%s", note)
	}
}

// kubeEventOf maps an outcome to type, reason, action and note; an empty
// reason means no Kubernetes Event.
func kubeEventOf(ev Event) (typ, reason, action, note string) {
	switch ev.Type {
	case EventDrift:
		note = driftNote(ev)
		switch ev.Action {
		case ActionReverted:
			return corev1.EventTypeNormal, "DriftReverted", "Revert", note
		case ActionRevertFailed:
			return corev1.EventTypeWarning, "RevertFailed", "Revert", note + ": " + ev.Message
		}
		return corev1.EventTypeWarning, "DriftReported", "Report", note
	case EventFight:
		return corev1.EventTypeWarning, "DriftFight", "Backoff", ev.Message
	case EventPruneBlocked:
		return corev1.EventTypeWarning, "PruneBlocked", "Prune", ev.Message
	case EventSyncFailed:
		return corev1.EventTypeWarning, "ApplyFailed", "Apply", ev.Message
	case EventModelInvalid:
		return corev1.EventTypeWarning, "InvalidModel", "Render", ev.Message
	case EventPruneFailed:
		return corev1.EventTypeWarning, "PruneFailed", "Prune", ev.Message
	case EventPruneSkipped:
		return corev1.EventTypeNormal, "PruneSkipped", "Prune", keysNote(ev.Objects) + ": " + ev.Message
	}
	return "", "", "", ""
}

func driftNote(ev Event) string {
	d := ev.Drift
	if d == nil {
		return "drifted"
	}
	who := d.Manager
	if who == "" {
		who = "an unknown manager"
	}
	if d.Deleted {
		return fmt.Sprintf("deleted by %s; revision %s", who, ev.Revision)
	}
	parts := make([]string, 0, len(d.Changes))
	for _, c := range d.Changes {
		parts = append(parts, fmt.Sprintf("%s: %v -> %v", c.Path, c.Desired, c.Live))
	}
	return fmt.Sprintf("%s changed by %s; revision %s", strings.Join(parts, ", "), who, ev.Revision)
}

func keysNote(keys []Key) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return strings.Join(out, ", ")
}

// reference is the ObjectReference of a managed object.
func (k *kubeEvents) reference(key Key) *corev1.ObjectReference {
	apiVersion, uid := k.lookup(key)
	return &corev1.ObjectReference{Kind: key.Kind, APIVersion: apiVersion, Namespace: key.Namespace, Name: key.Name, UID: uid}
}

// allow takes a token from key's bucket.
func (k *kubeEvents) allow(key Key) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := time.Now()
	b := k.tokens[key]
	if b == nil {
		if len(k.tokens) > 10000 { // forget everyone rather than grow without end
			k.tokens = map[Key]*bucket{}
		}
		b = &bucket{n: kubeEventBurst, last: now}
		k.tokens[key] = b
	}
	b.n = min(kubeEventBurst, b.n+now.Sub(b.last).Seconds()/kubeEventInterval.Seconds())
	b.last = now
	if b.n < 1 {
		return false
	}
	b.n--
	return true
}
