package preview

import (
	"sort"
	"time"

	"github.com/tether-ml/tether/reconcile"
)

// Preview states in Status, besides the worst health of a running preview's
// units (reconcile.Health: Ready, Progressing, Suspended, Failed, Invalid).
const (
	StateCreating = "Creating" // its first pass has not finished
	StateDeleting = "Deleting" // being torn down
	StateLeftOut  = "LeftOut"  // no preview: --preview-max, or another ref has its id
)

// Status is one preview (or a ref left without one) in /status.
type Status struct {
	ID         string    `json:"id"`
	Ref        string    `json:"ref"`
	Head       string    `json:"head,omitempty"`
	Namespaces []string  `json:"namespaces,omitempty"`
	State      string    `json:"state"`
	Expires    time.Time `json:"expires,omitzero"`
	Message    string    `json:"message,omitempty"` // why it is left out, or its last error
}

// Status lists the previews, running, being deleted and left out, by id.
func (m *Manager) Status() []Status {
	m.mu.Lock()
	out := make([]Status, 0, len(m.running)+len(m.deleting)+len(m.left))
	running := make([]*preview, 0, len(m.running))
	for _, p := range m.running {
		running = append(running, p)
	}
	for _, t := range m.deleting {
		out = append(out, Status{ID: t.ID, Ref: t.Ref, Head: t.Revision, State: StateDeleting})
	}
	for _, l := range m.left {
		out = append(out, Status{ID: l.ID, Ref: l.Ref, Head: l.Revision, State: StateLeftOut, Expires: l.Expires, Message: l.Reason})
	}
	m.mu.Unlock()
	for _, p := range running {
		out = append(out, p.status())
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return lessID(out[i].ID, out[j].ID)
		}
		return out[i].Ref < out[j].Ref
	})
	return out
}

// status rolls a running preview's units up into one state: the worst.
func (p *preview) status() Status {
	ls := p.loop.Status()
	p.mu.Lock()
	s := Status{ID: p.id, Ref: p.target.Ref, Head: p.target.Revision, Namespaces: p.namespaces, Expires: p.target.Expires,
		State: StateCreating, Message: ls.LastError}
	p.mu.Unlock()
	worst := -1
	for _, u := range ls.Units {
		if r := healthRank[u.State]; r > worst {
			worst, s.State = r, string(u.State)
		}
		if u.LastError != "" {
			s.Message = joinMessage(s.Message, u.Name+": "+u.LastError)
		}
	}
	return s
}

var healthRank = map[reconcile.Health]int{
	reconcile.HealthReady: 0, reconcile.HealthProgressing: 1, reconcile.HealthSuspended: 2,
	reconcile.HealthFailed: 3, reconcile.HealthInvalid: 4,
}

func joinMessage(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
