package reconcile

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeyLocksSerialiseOneObjectAndAreDropped(t *testing.T) {
	var k keyLocks
	a, b := Key{Kind: "Deployment", Name: "a"}, Key{Kind: "Deployment", Name: "b"}
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			unlock := k.lock(a)
			n := inside.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(100 * time.Microsecond) // hold it long enough for others to try
			inside.Add(-1)
			unlock()
		})
		wg.Go(func() { k.lock(b)() })
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders of one object's lock at once, want 1", most.Load())
	}
	if n := k.held(); n != 0 {
		t.Errorf("%d locks left after every holder released, want 0", n)
	}
}
