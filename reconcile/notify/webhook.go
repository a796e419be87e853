package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/tether-ml/tether/reconcile"
)

// Webhook posts a batch of events as JSON to any HTTP endpoint:
//
//	{"cluster": "prod", "events": [{"type": "DriftReverted", "model": "fraud", "object": {...}, "drift": {...}}]}
//
// Values of Secrets are masked as in Slack messages. It makes one attempt;
// wrap it in a Retrier.
type Webhook struct {
	endpoint Endpoint
	cluster  string
	client   *http.Client
}

var _ Notifier = (*Webhook)(nil)

// NewWebhook returns a JSON webhook notifier posting to ep.
func NewWebhook(ep Endpoint, cluster string) *Webhook {
	return &Webhook{endpoint: ep, cluster: cluster, client: newClient()}
}

// WebhookPayload is the body the generic webhook receives.
type WebhookPayload struct {
	Cluster string         `json:"cluster,omitempty"`
	Events  []WebhookEvent `json:"events"`
}

// WebhookEvent is one reconcile.Event in JSON, with sensitive values masked.
type WebhookEvent struct {
	Type     string          `json:"type"`
	Time     time.Time       `json:"time"`
	Revision string          `json:"revision,omitempty"`
	Model    string          `json:"model,omitempty"`
	Object   *WebhookObject  `json:"object,omitempty"`
	Action   string          `json:"action,omitempty"`
	Message  string          `json:"message,omitempty"`
	Count    int             `json:"count,omitempty"`
	Drift    *WebhookDrift   `json:"drift,omitempty"`
	Digest   *DriftDigest    `json:"digest,omitempty"`
	Preview  *WebhookPreview `json:"preview,omitempty"`
}

// WebhookPreview names the preview environment an event is about.
type WebhookPreview struct {
	ID         string   `json:"id,omitempty"`
	Ref        string   `json:"ref,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
}

// WebhookObject names an object.
type WebhookObject struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// WebhookDrift is a drift with values rendered as in Slack messages.
type WebhookDrift struct {
	Deleted bool            `json:"deleted,omitempty"`
	Manager string          `json:"manager,omitempty"`
	Time    time.Time       `json:"time,omitzero"`
	Changes []WebhookChange `json:"changes,omitempty"`
}

// WebhookChange is one changed field.
type WebhookChange struct {
	Path    string `json:"path"`
	Desired string `json:"desired"`
	Live    string `json:"live"`
	Removed bool   `json:"removed,omitempty"`
}

// Notify posts the batch as one JSON document; a digest is one event of type
// Digest.
func (w *Webhook) Notify(ctx context.Context, b Batch) (bool, error) {
	p := WebhookPayload{Cluster: w.cluster, Events: make([]WebhookEvent, 0, len(b.Events)+1)}
	for _, ev := range b.Events {
		p.Events = append(p.Events, webhookEvent(ev))
	}
	if b.Digest != nil {
		p.Events = append(p.Events, WebhookEvent{Type: digestType, Time: b.Digest.Until, Digest: b.Digest})
	}
	body, err := json.Marshal(p)
	if err != nil {
		return false, fmt.Errorf("webhook: encode events: %w", err)
	}
	return post(ctx, w.client, w.endpoint, "webhook", body)
}

// wireTypes keep the JSON webhook's event types as they were before drift
// became one event with an action: receivers switch on them.
var wireTypes = map[reconcile.Action]string{
	reconcile.ActionReverted:     "DriftReverted",
	reconcile.ActionReported:     "DriftDetected",
	reconcile.ActionRevertFailed: "DriftRevertFailed",
}

func wireType(ev reconcile.Event) string {
	if t, ok := wireTypes[ev.Action]; ok && ev.Type == reconcile.EventDrift {
		return t
	}
	return string(ev.Type)
}

func webhookEvent(ev reconcile.Event) WebhookEvent {
	out := WebhookEvent{Type: wireType(ev), Time: ev.Time, Revision: ev.Revision, Model: ev.Unit,
		Action: string(ev.Action), Message: ev.Message, Count: ev.Count}
	if k := ev.Object; k != nil {
		out.Object = &WebhookObject{Group: k.Group, Kind: k.Kind, Namespace: k.Namespace, Name: k.Name}
	}
	if pr := ev.Preview; pr != nil {
		out.Preview = &WebhookPreview{ID: pr.ID, Ref: pr.Ref, Namespaces: pr.Namespaces}
	}
	if d := ev.Drift; d != nil {
		wd := &WebhookDrift{Deleted: d.Deleted, Manager: d.Manager, Time: d.Time}
		for _, c := range d.Changes {
			wd.Changes = append(wd.Changes, WebhookChange{Path: c.Path, Desired: Value(d.Object, c, false), Live: Value(d.Object, c, true), Removed: c.Removed})
		}
		out.Drift = wd
	}
	return out
}
