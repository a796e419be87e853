package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/reconcile/notify"
)

var pr7 = &reconcile.PreviewRef{ID: "7", Ref: "refs/pull/7/head", Namespaces: []string{"ml-pr-7"}}

func TestPreviewMessages(t *testing.T) {
	tests := []struct {
		name string
		ev   reconcile.Event
		want []string
	}{
		{"created", reconcile.Event{Type: reconcile.EventPreviewCreated, Revision: revision, Preview: pr7},
			[]string{"1 preview created", "Preview 7 created* for `refs/pull/7/head` at `4f0c1e9a7b2d` in `ml-pr-7`"}},
		{"deleted", reconcile.Event{Type: reconcile.EventPreviewDeleted, Revision: revision, Preview: pr7, Message: "its ref is gone"},
			[]string{"1 preview deleted", "Preview 7 deleted* (`refs/pull/7/head`) in `ml-pr-7`: its ref is gone"}},
		{"capped", reconcile.Event{Type: reconcile.EventPreviewCapped, Count: 2, Preview: &reconcile.PreviewRef{},
			Message: "refs/pull/30/head (--preview-max 5: lower ids have the previews); refs/pull/31/head (...)"},
			[]string{"1 preview cap reached", "2 refs left without a preview*: refs/pull/30/head (--preview-max 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertSlackMessage(t, notify.Events(tt.ev), tt.want...)
		})
	}
}

// TestPreviewEventsFiltered: a preview's creation and deletion are posted
// (category preview); what happens inside a preview is not, except a
// failure to list the preview refs.
func TestPreviewEventsFiltered(t *testing.T) {
	inside := driftEvent(deployment("a"), "reverted", change("spec.replicas", 1, 2))
	inside.Preview = pr7
	all := []reconcile.Event{
		{Type: reconcile.EventPreviewCreated, Revision: "r1", Preview: pr7},
		inside,
		{Type: reconcile.EventModelInvalid, Revision: "r1", Unit: "b", Message: "bad", Preview: pr7},
		{Type: reconcile.EventVerificationFailed, Revision: "r2", Message: "unsigned", Preview: pr7},
		{Type: reconcile.EventFetchFailed, Message: "checkout failed", Preview: pr7},
		{Type: reconcile.EventFetchFailed, Message: "preview refs: unreachable", Preview: &reconcile.PreviewRef{}},
		{Type: reconcile.EventPreviewDeleted, Revision: "r1", Message: "its ref is gone", Preview: pr7},
	}
	tests := []struct {
		on   []string
		want []string
	}{
		{nil, []string{"PreviewCreated:r1:", "FetchFailed::preview refs: unreachable", "PreviewDeleted:r1:its ref is gone"}},
		{[]string{"drift", "failure"}, []string{"FetchFailed::preview refs: unreachable"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, deliver(t, notify.Options{On: tt.on}, all...)); diff != "" {
			t.Errorf("--notify-on %v: delivered (-want +got):\n%s", tt.on, diff)
		}
	}
}

func TestWebhookNamesThePreview(t *testing.T) {
	bodies := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer srv.Close()
	ev := reconcile.Event{Type: reconcile.EventPreviewDeleted, Revision: "r1", Message: "expired", Preview: pr7}
	if _, err := notify.NewWebhook(notify.StaticURL(srv.URL), "prod").Notify(context.Background(), notify.Events(ev)); err != nil {
		t.Fatal(err)
	}
	var got notify.WebhookPayload
	if err := json.Unmarshal(<-bodies, &got); err != nil {
		t.Fatal(err)
	}
	want := &notify.WebhookPreview{ID: "7", Ref: "refs/pull/7/head", Namespaces: []string{"ml-pr-7"}}
	if len(got.Events) != 1 || got.Events[0].Type != "PreviewDeleted" || !cmp.Equal(got.Events[0].Preview, want) {
		t.Errorf("webhook payload %+v, want one PreviewDeleted naming %+v", got, want)
	}
}
