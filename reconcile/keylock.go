package reconcile

import "sync"

// keyLocks serialises writes to one object: the loop applying a new revision
// and the drift worker reverting must never interleave, or a revert could put
// back the previous revision's content. A lock lives only while someone holds
// or waits for it, so the map does not grow with every object ever applied.
type keyLocks struct {
	mu    sync.Mutex
	locks map[Key]*keyLock
}

type keyLock struct {
	sync.Mutex
	users int // holders and waiters; guarded by keyLocks.mu
}

func (k *keyLocks) lock(key Key) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[Key]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// held is how many objects have a lock in use.
func (k *keyLocks) held() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.locks)
}
