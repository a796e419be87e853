package reconcile

import (
	"sync"
	"time"
)

// FightPolicy says when reverting one object turns into a fight with another
// actor, and how tether then backs off. Only tether's own reverts of the
// object count: watch events, status updates and the revert's own echo never
// do (issue 18: a limiter fed by every watch event made the sixth drift of a
// busy object wait seconds however far apart the drifts were).
type FightPolicy struct {
	// Gap: a drift first seen within Gap of tether's last revert of the same
	// object continues a fight; seen later, the object starts afresh.
	Gap time.Duration
	// Free reverts in a row are immediate before tether backs off.
	Free int
	// Base is the first wait; each further revert in the fight doubles it, up
	// to Max. The wait is counted from the last revert.
	Base, Max time.Duration
	// Idle: an object not reverted for this long is forgotten.
	Idle time.Duration
}

// DefaultFightPolicy: drifts a second or more apart are each reverted at
// once, however many there are; an actor undoing tether within a second five
// times in a row is in a fight, and tether reverts it after 250 ms, 500 ms,
// 1 s, ... up to every 30 s until the other side stops, then settles to Git.
var DefaultFightPolicy = FightPolicy{Gap: time.Second, Free: 5, Base: 250 * time.Millisecond, Max: 30 * time.Second, Idle: time.Minute}

// fight is what tether remembers about reverting one object.
type fight struct {
	lastRevert time.Time
	streak     int       // reverts in a row, each drift seen within Gap of the previous revert
	seen       time.Time // when the drift now waiting for its revert was first seen; zero if none
	announced  bool      // the backoff of this fight was reported
	reported   string    // fingerprint of the drift last reported in report mode
}

// fights tracks reverts per object. It is safe for the drift workers to share.
type fights struct {
	policy FightPolicy

	mu        sync.Mutex
	byKey     map[Key]*fight
	lastSweep time.Time
}

func newFights(p FightPolicy) *fights {
	if p == (FightPolicy{}) {
		p = DefaultFightPolicy
	}
	return &fights{policy: p, byKey: map[Key]*fight{}}
}

// decide is called when a check finds key drifted at now. It returns how long
// to wait before reverting (0: revert now) and whether tether starts backing
// off in this fight, which is reported once.
func (f *fights) decide(key Key, now time.Time) (wait time.Duration, backoff bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.entry(key, now)
	if e.seen.IsZero() {
		e.seen = now
	}
	if e.lastRevert.IsZero() || e.seen.Sub(e.lastRevert) > f.policy.Gap {
		e.streak, e.announced = 0, false
	}
	if e.streak < f.policy.Free {
		return 0, false
	}
	due := e.lastRevert.Add(f.delay(e.streak - f.policy.Free))
	if !now.Before(due) {
		return 0, false
	}
	backoff, e.announced = !e.announced, true
	return due.Sub(now), backoff
}

// delay is Base doubled n times, capped at Max.
func (f *fights) delay(n int) time.Duration {
	d := f.policy.Base
	for range n {
		if d >= f.policy.Max {
			break
		}
		d *= 2
	}
	return min(d, f.policy.Max)
}

// reverted records tether's revert of key at now.
func (f *fights) reverted(key Key, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.entry(key, now)
	e.lastRevert, e.seen = now, time.Time{}
	e.streak++
}

// settled records that key matched what tether applied at a check: no drift
// waits for a revert, and a new report-mode drift is new.
func (f *fights) settled(key Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.byKey[key]; e != nil {
		e.seen, e.reported = time.Time{}, ""
	}
}

// firstReport reports whether a report-mode drift with this fingerprint was
// not reported yet, and remembers it: a drifted object seen again (a status
// update, a resync) is not reported twice.
func (f *fights) firstReport(key Key, fingerprint string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.entry(key, now)
	if e.reported == fingerprint {
		return false
	}
	e.reported = fingerprint
	return true
}

// entry returns key's record, creating it, and now and then forgets objects
// idle for longer than Idle, so the map does not grow with every object that
// ever drifted. The caller holds mu.
func (f *fights) entry(key Key, now time.Time) *fight {
	if now.Sub(f.lastSweep) > f.policy.Idle {
		for k, e := range f.byKey {
			if e.seen.IsZero() && e.reported == "" && now.Sub(e.lastRevert) > f.policy.Idle {
				delete(f.byKey, k)
			}
		}
		f.lastSweep = now
	}
	e := f.byKey[key]
	if e == nil {
		e = &fight{}
		f.byKey[key] = e
	}
	return e
}

// tracked is how many objects the tracker remembers.
func (f *fights) tracked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.byKey)
}
