package render

import "sync"

// treeBudget bounds the bytes of all trees held at once: Repository renders
// units in parallel, and each copies its folder into memory before it waits
// for its turn to build, so a per-tree limit alone lets a many-core node hold
// one full tree per core (issue 11).
var treeBudget = newBudget(maxAllTreesBytes, maxTreeBytes)

// budget is a pool of bytes shared by trees. A tree reserves the per-tree
// limit before copying anything and gives back what it did not use once it
// is complete, so no tree ever waits for bytes while holding some: trees wait
// for one another, they never deadlock or fail for lack of room.
type budget struct {
	total, perTree int64

	mu   sync.Mutex
	free *sync.Cond
	used int64
	peak int64 // highest used, for tests
}

func newBudget(total, perTree int64) *budget {
	b := &budget{total: total, perTree: min(perTree, total)}
	b.free = sync.NewCond(&b.mu)
	return b
}

// reserve blocks until the per-tree limit is free and takes it.
func (b *budget) reserve() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used+b.perTree > b.total {
		b.free.Wait()
	}
	b.used += b.perTree
	b.peak = max(b.peak, b.used)
	return b.perTree
}

// release gives n bytes back.
func (b *budget) release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.free.Broadcast()
}
