package preview

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-ml/tether/reconcile"
	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// preview is one running preview environment: a reconcile.Loop of its own.
type preview struct {
	id     string
	src    *previewSource
	loop   *reconcile.Loop
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	target     Target
	namespaces []string // as last rendered
	announce   bool     // PreviewCreated is still to be emitted (not for a preview found at start)
}

// stop ends the preview's loop and waits until its records are saved.
func (p *preview) stop() {
	p.cancel()
	<-p.done
}

func (p *preview) ref() *reconcile.PreviewRef {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &reconcile.PreviewRef{ID: p.id, Ref: p.target.Ref, Namespaces: p.namespaces}
}

// instance is the identity of preview id's records.
func (m *Manager) instance(id string) string { return m.cfg.Instance + "-pr-" + id }

// ensure starts the preview of t, or points the running one at t's head.
func (m *Manager) ensure(ctx context.Context, t Target) {
	m.mu.Lock()
	p := m.running[t.ID]
	m.mu.Unlock()
	if p != nil {
		p.mu.Lock()
		p.target = t
		p.mu.Unlock()
		if p.src.setHead(t.Revision) {
			p.loop.Wake()
		}
		return
	}
	m.start(ctx, t)
}

// start runs a loop for the preview of t. Its inventory has the preview's
// own instance, so its records and its prune guard are its own.
func (m *Manager) start(ctx context.Context, t Target) {
	_, gen, _ := m.current()
	_, found := m.present[t.ID]
	p := &preview{id: t.ID, target: t, done: make(chan struct{}), announce: !found}
	delete(m.present, t.ID)
	p.src = &previewSource{wt: m.cfg.Refs.Worktree(filepath.Join(m.cfg.WorkDir, t.ID)), head: t.Revision, gen: gen}
	target := render.PreviewTarget{ID: t.ID, Ref: t.Ref, Owner: m.cfg.Instance}
	p.loop = reconcile.NewLoop(reconcile.Config{
		Source: p.src, Render: m.renderer(p, target), Applier: m.cfg.Applier,
		Inventory: reconcile.NewInventory(m.cfg.Applier, m.cfg.InventoryNamespace, m.instance(t.ID)),
		Interval:  m.cfg.Interval, Resync: m.cfg.Resync,
		Prune: true, MaxPrune: reconcile.PruneLimit{Percent: 100},
		Log: m.cfg.Log.With("preview", t.ID), Events: m.tag(p), Metrics: reconcile.NewMetrics(nil),
		Leader: m.cfg.Leader, RecordEvents: m.cfg.RecordEvents,
	})
	lctx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	m.mu.Lock()
	m.running[t.ID] = p
	m.mu.Unlock()
	go func() {
		defer close(p.done)
		_ = p.loop.Run(lctx)
	}()
}

// tag is the sink of a preview's loop: its events name the preview.
func (m *Manager) tag(p *preview) reconcile.Sink {
	return func(ev reconcile.Event) {
		ev.Preview = p.ref()
		m.emit(ev)
	}
}

// renderer renders the preview's checkout with the tracked branch's
// settings, and refuses a result that would write outside the preview or
// take over a namespace that is not this preview's.
func (m *Manager) renderer(p *preview, t render.PreviewTarget) reconcile.Renderer {
	return func(snap source.Snapshot, _ render.Hooks) (*render.Result, error) {
		settings, _, _ := m.current()
		res, err := render.RenderPreview(snap.Dir, settings, m.cfg.Flags, t)
		if err != nil {
			return nil, err
		}
		namespaces, err := confined(res, t.ID)
		if err != nil {
			return nil, err
		}
		if err := m.claimable(namespaces, t.ID); err != nil {
			return nil, err
		}
		m.rendered(p, namespaces)
		res.Settings.SyncWindows = nil // the tracked branch's sync windows guard it, not its previews
		return res, nil
	}
}

// rendered remembers the preview's namespaces and, the first time, says the
// preview was created.
func (m *Manager) rendered(p *preview, namespaces []string) {
	p.mu.Lock()
	p.namespaces = namespaces
	announce, t := p.announce, p.target
	p.announce = false
	p.mu.Unlock()
	if announce {
		m.emit(reconcile.Event{Type: reconcile.EventPreviewCreated, Time: time.Now(), Revision: t.Revision,
			Message: fmt.Sprintf("%s at %s in %s", t.Ref, t.Revision, strings.Join(namespaces, ", ")), Preview: p.ref()})
	}
}

// confined checks that a preview's result stays in its namespaces: the
// namespaces unit creates only <ns>-pr-<id> namespaces (and their quotas),
// and every other object is in one of them. It returns the namespaces.
func confined(res *render.Result, id string) ([]string, error) {
	own := map[string]bool{}
	for _, u := range res.Units {
		for _, o := range u.Objects {
			if u.Name == render.PreviewNamespacesUnit && o.GetKind() == "Namespace" && o.GetAPIVersion() == "v1" &&
				strings.HasSuffix(o.GetName(), "-pr-"+id) {
				own[o.GetName()] = true
			}
		}
	}
	for _, u := range res.Units {
		for _, o := range u.Objects {
			isOwnNamespace := u.Name == render.PreviewNamespacesUnit && o.GetKind() == "Namespace" && own[o.GetName()]
			if ns := o.GetNamespace(); !own[ns] && !isOwnNamespace {
				return nil, fmt.Errorf("preview %s: %s/%s in namespace %q: %w", id, o.GetKind(), o.GetName(), ns, errNotConfined)
			}
		}
	}
	out := make([]string, 0, len(own))
	for ns := range own {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out, nil
}

// claimable refuses namespaces that exist without this preview's labels: a
// namespace someone made by hand, or another daemon's preview, is never
// taken over (and so never deleted with the preview).
func (m *Manager) claimable(namespaces []string, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	for _, ns := range namespaces {
		live, err := m.cfg.Applier.Get(ctx, gvk, reconcile.Key{Kind: "Namespace", Name: ns})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if l := live.GetLabels(); l[render.LabelPreviewOf] != m.cfg.Instance || l[render.LabelPreview] != id {
			return fmt.Errorf("preview %s: namespace %s exists and is not this preview's (labels %s=%q, %s=%q): left alone; delete or rename it to let the preview in",
				id, ns, render.LabelPreviewOf, l[render.LabelPreviewOf], render.LabelPreview, l[render.LabelPreview])
		}
	}
	return nil
}

// previewSource is a preview's reconcile.Source: it checks the head the
// manager last listed out of the RefSet, without asking the remote, and
// reports a change when the head moved or the tracked settings changed.
type previewSource struct {
	wt *source.Worktree

	mu        sync.Mutex
	head, rev string // wanted, and last checked out
	gen, seen int    // settings generation wanted, and last reported
	last      source.Snapshot
}

// setHead points the source at rev; it reports whether that is new.
func (s *previewSource) setHead(rev string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := s.head != rev
	s.head = rev
	return changed
}

func (s *previewSource) setGeneration(gen int) {
	s.mu.Lock()
	s.gen = gen
	s.mu.Unlock()
}

// Sync implements reconcile.Source.
func (s *previewSource) Sync(ctx context.Context) (source.Snapshot, bool, error) {
	s.mu.Lock()
	head, gen := s.head, s.gen
	s.mu.Unlock()
	if head == s.rev && gen == s.seen {
		return s.last, false, nil
	}
	if head != s.rev {
		snap, err := s.wt.Checkout(ctx, head)
		if err != nil {
			return snap, false, err
		}
		s.last, s.rev = snap, head
	}
	s.seen = gen
	return s.last, true, nil
}
