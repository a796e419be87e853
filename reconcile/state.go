package reconcile

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// member is what tether last applied for one object: the desired state that
// drift is measured against and reverted to. It is kept as the bytes sent and
// received, not as decoded objects: a thousand models' worth of members costs a
// few MiB, and only an object that drifted is ever decoded again.
type member struct {
	unit     string
	key      Key
	version  string
	body     []byte // the object as sent (JSON), revision annotation included; nil until rendered after a restart
	hash     string // content hash without the revision annotation
	revision string // commit that produced this content
	// owned is tether's managedFields entry (FieldsV1 JSON) right after the
	// apply, and ownedSum its digest, compared with the watch cache's.
	owned    []byte
	ownedSum [sha256.Size]byte
	// resourceVersion is the object's version right after tether's write.
	resourceVersion string
	// adopted: the object existed before tether first applied it; tether
	// manages it but never deletes it.
	adopted bool
	// partOf is the ApplySet label the object carries when it is not its
	// unit's: taken over from another shard's record and not applied since.
	partOf string
}

// setOwned records tether's managedFields entry, re-encoded the way the watch
// cache's copy is (unstructured objects re-encode it with sorted keys; the
// API server orders list keys by value, e.g. port 9090 before 10000), so equal
// entries have equal digests.
func (m *member) setOwned(fields []byte) {
	var v any
	if json.Unmarshal(fields, &v) == nil {
		if sorted, err := json.Marshal(v); err == nil {
			fields = sorted
		}
	}
	m.owned, m.ownedSum = fields, fieldsSum(fields)
}

// fieldsSum digests a FieldsV1 entry; no entry digests to zero.
func fieldsSum(fields []byte) [sha256.Size]byte {
	if len(fields) == 0 {
		return [sha256.Size]byte{}
	}
	return sha256.Sum256(fields)
}

// applied decodes what drift is measured against: the object sent and the
// fields tether owned after sending it.
func (m *member) applied() (*unstructured.Unstructured, *fieldpath.Set, error) {
	obj, err := decode(m.body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: applied object: %w", m.key, err)
	}
	owned, err := parseFields(&metav1.FieldsV1{Raw: m.owned})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", m.key, err)
	}
	return obj, owned, nil
}

// unitState is the last applied state of one unit, as the inventory records it.
type unitState struct {
	name, kind string
	hash       string // content hash of the last completely applied render
	revision   string // revision of that render
	drift      string
	suspend    bool
	members    map[Key]*member

	recordVersion string    // resourceVersion of its record as last read or written (for compare-and-set)
	recordUID     types.UID // of its record, for the Kubernetes Events recorded on it

	health    Health
	lastError string
	lastDrift *Event
	lastFight *Event
}

// state is shared by the loop (writer), the drift workers and the watch
// cache's transform (readers).
type state struct {
	mu    sync.RWMutex
	units map[string]*unitState
	byKey map[Key]*member
}

func newState() *state {
	return &state{units: map[string]*unitState{}, byKey: map[Key]*member{}}
}

// lookup returns what was applied for key and how its unit wants drift handled.
func (s *state) lookup(key Key) (m *member, drift string, suspend bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m = s.byKey[key]
	if m == nil {
		return nil, "", false
	}
	u := s.units[m.unit]
	return m, u.drift, u.suspend
}

// unit returns a copy of a unit's summary fields (members excluded).
func (s *state) unit(name string) (unitState, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.units[name]
	if !ok {
		return unitState{}, false
	}
	c := *u
	c.members = nil
	return c, true
}

// ensure returns the unit's state, creating it; the caller holds mu.
func (s *state) ensure(name, kind string) *unitState {
	u := s.units[name]
	if u == nil {
		u = &unitState{name: name, kind: kind, members: map[Key]*member{}}
		s.units[name] = u
	}
	return u
}

// update runs fn on a unit's state under the write lock.
func (s *state) update(name, kind string, fn func(*unitState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s.ensure(name, kind))
}

// put stores one applied (or restored) object.
func (s *state) put(kind string, m *member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensure(m.unit, kind).members[m.key] = m
	s.byKey[m.key] = m
}

// forget drops an object tether deleted or stopped managing.
func (s *state) forget(unit string, key Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.units[unit]; u != nil {
		delete(u.members, key)
	}
	if m := s.byKey[key]; m != nil && m.unit == unit {
		delete(s.byKey, key)
	}
}

// dropUnit forgets a unit whose inventory was deleted.
func (s *state) dropUnit(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.units[name]; u != nil {
		for k := range u.members {
			delete(s.byKey, k)
		}
	}
	delete(s.units, name)
}

// memberList returns a unit's members sorted by key.
func (s *state) memberList(name string) []*member {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u := s.units[name]
	if u == nil {
		return nil
	}
	out := make([]*member, 0, len(u.members))
	for _, m := range u.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key.String() < out[j].key.String() })
	return out
}

// unitNames lists every unit tether manages, sorted.
func (s *state) unitNames() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.units))
	for n := range s.units {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// kindOf is a unit's kind, model or bundle, for messages.
func (s *state) kindOf(name string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u := s.units[name]; u != nil {
		return u.kind
	}
	return "model"
}

// modelObjects is the number of objects models (not bundles) manage.
func (s *state) modelObjects() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, u := range s.units {
		if u.kind != "bundle" {
			n += len(u.members)
		}
	}
	return n
}

// keys lists every object tether manages.
func (s *state) keys() []Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Key, 0, len(s.byKey))
	for k := range s.byKey {
		out = append(out, k)
	}
	return out
}

// managedCount is the number of objects across all units.
func (s *state) managedCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byKey)
}

// setHealth records a unit's health; it reports false for a unit no longer known.
func (s *state) setHealth(name string, h Health) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.units[name]
	if u != nil {
		u.health = h
	}
	return u != nil
}

// setFight records the last fight of a unit for /status.
func (s *state) setFight(name string, ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.units[name]; u != nil {
		u.lastFight = &ev
	}
}

// setDrift records the last drift event of a unit for /status.
func (s *state) setDrift(name string, ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.units[name]; u != nil {
		u.lastDrift = &ev
	}
}

// gvk returns a member's group/version/kind.
func (m *member) gvk() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: m.key.Group, Version: m.version, Kind: m.key.Kind}
}
