package reconcile

import "sync"

// keyLocks serialises writes to one object: the loop applying a new revision
// and the drift worker reverting must never interleave, or a revert could put
// back the previous revision's content.
type keyLocks struct {
	mu    sync.Mutex
	locks map[Key]*sync.Mutex
}

func (k *keyLocks) lock(key Key) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[Key]*sync.Mutex{}
	}
	m := k.locks[key]
	if m == nil {
		m = &sync.Mutex{}
		k.locks[key] = m
	}
	k.mu.Unlock()
	m.Lock()
	return m.Unlock
}
