package reconcile

import (
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// applied is what tether last applied for one object: the desired state that
// drift is measured against and reverted to.
type applied struct {
	unit     string
	object   *unstructured.Unstructured // as sent, revision annotation included
	hash     string                     // content hash without the revision annotation
	revision string                     // commit that produced this content
	owned    *fieldpath.Set             // fields tether owned right after the apply
	gvr      schema.GroupVersionResource
	// resourceVersion is the object's version right after tether's write.
	resourceVersion string
}

// unitState is the last applied state of one unit.
type unitState struct {
	hash    string
	drift   string
	suspend bool
	objects map[Key]*applied
}

// state is shared by the loop (writer) and the drift watcher (reader).
type state struct {
	mu    sync.RWMutex
	units map[string]*unitState
	byKey map[Key]*applied
}

func newState() *state {
	return &state{units: map[string]*unitState{}, byKey: map[Key]*applied{}}
}

// lookup returns what was applied for key and how its unit wants drift handled.
func (s *state) lookup(key Key) (a *applied, drift string, suspend bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a = s.byKey[key]
	if a == nil {
		return nil, "", false
	}
	u := s.units[a.unit]
	return a, u.drift, u.suspend
}

func (s *state) unit(name string) *unitState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.units[name]
}

// record stores one applied object.
func (s *state) record(a *applied) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.ensure(a.unit)
	key := KeyOf(a.object)
	u.objects[key] = a
	s.byKey[key] = a
}

// configure records how a unit wants drift handled, before it is applied.
func (s *state) configure(name, drift string, suspend bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.ensure(name)
	u.drift, u.suspend = drift, suspend
}

// markApplied records the content hash of a unit whose objects all applied.
func (s *state) markApplied(name, hash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensure(name).hash = hash
}

// ensure returns the unit's state, creating it; the caller holds mu.
func (s *state) ensure(name string) *unitState {
	u := s.units[name]
	if u == nil {
		u = &unitState{objects: map[Key]*applied{}}
		s.units[name] = u
	}
	return u
}
