package notify

import (
	"fmt"
	"strings"

	"github.com/tether-ml/tether/reconcile"
)

// Kinds of preview items.
const (
	kindPreviewCreated = "preview created"
	kindPreviewDeleted = "preview deleted"
	kindPreviewCapped  = "preview cap reached"
)

// isPreviewEvent reports whether ev is one of a preview environment's own
// events (created, deleted, capped).
func isPreviewEvent(ev reconcile.Event) bool {
	switch ev.Type {
	case reconcile.EventPreviewCreated, reconcile.EventPreviewDeleted, reconcile.EventPreviewCapped:
		return true
	}
	return false
}

// previewItem reports a preview created or torn down, or refs left without
// one by --preview-max.
func previewItem(ev reconcile.Event) item {
	p := ev.Preview
	if p == nil {
		p = &reconcile.PreviewRef{}
	}
	where := ""
	if len(p.Namespaces) > 0 {
		quoted := make([]string, len(p.Namespaces))
		for i, ns := range p.Namespaces {
			quoted[i] = code(ns)
		}
		where = " in " + strings.Join(quoted, ", ")
	}
	ref := orUnknown(p.Ref)
	switch ev.Type {
	case reconcile.EventPreviewCreated:
		return item{sev: sevInfo, kind: kindPreviewCreated,
			text: fmt.Sprintf(":seedling: *Preview %s created* for %s at %s%s", escape(p.ID), code(ref), code(shortRev(ev.Revision)), where),
			line: fmt.Sprintf("preview %s created for %s at %s%s", p.ID, ref, ev.Revision, strings.ReplaceAll(where, "`", ""))}
	case reconcile.EventPreviewDeleted:
		return item{sev: sevInfo, kind: kindPreviewDeleted,
			text: fmt.Sprintf(":broom: *Preview %s deleted* (%s)%s: %s", escape(p.ID), code(ref), where, escape(truncate(ev.Message, maxError))),
			line: fmt.Sprintf("preview %s deleted (%s): %s", p.ID, ref, escape(truncate(ev.Message, 300)))}
	}
	return item{sev: sevInfo, kind: kindPreviewCapped,
		text: fmt.Sprintf(":hourglass: *%d refs left without a preview*: %s", ev.Count, escape(truncate(ev.Message, maxError))),
		line: fmt.Sprintf("%d refs left without a preview: %s", ev.Count, escape(truncate(ev.Message, 300)))}
}
