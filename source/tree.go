package source

import (
	"path"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// TreeHash returns the Git object hash of the folder or regular file at slash
// path p (relative to Dir) in this revision. It reads the commit's tree
// objects, never a file: a folder's hash changes exactly when something
// below it changes. ok is false when p is absent, a symlink or a submodule
// (its hash would not say what it points to), or when the snapshot carries
// no tree (a Snapshot built by hand); callers then assume p changed.
func (s Snapshot) TreeHash(p string) (string, bool) {
	if s.tree == nil {
		return "", false
	}
	return s.tree.hash(p)
}

// treeIndex answers TreeHash for one commit. Each folder's tree object is
// decoded once and kept, so a thousand lookups under models/ decode that
// folder once (go-git's Tree.FindEntry caches only deeper paths). It is safe
// for concurrent use: renders look hashes up from several goroutines.
type treeIndex struct {
	mu    sync.Mutex
	store storer.EncodedObjectStorer
	base  string                  // Options.Path
	trees map[string]*object.Tree // decoded folders, by slash path from the repository root
}

func newTreeIndex(store storer.EncodedObjectStorer, root *object.Tree, base string) *treeIndex {
	return &treeIndex{store: store, base: base, trees: map[string]*object.Tree{"": root}}
}

func (x *treeIndex) hash(p string) (string, bool) {
	p = path.Clean(strings.TrimPrefix(p, "/"))
	if p == "." {
		p = ""
	}
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	full := path.Join(x.base, p)
	x.mu.Lock()
	defer x.mu.Unlock()
	if full == "" {
		return x.trees[""].Hash.String(), true
	}
	parent, name := path.Split(full)
	t, ok := x.folder(strings.TrimSuffix(parent, "/"))
	if !ok {
		return "", false
	}
	e, err := t.FindEntry(name)
	if err != nil {
		return "", false
	}
	switch e.Mode {
	case filemode.Dir, filemode.Regular, filemode.Executable, filemode.Deprecated:
		return e.Hash.String(), true
	}
	return "", false
}

// folder returns the decoded tree of folder p; the caller holds mu. Through a
// symlink or a file, there is no folder.
func (x *treeIndex) folder(p string) (*object.Tree, bool) {
	if t, ok := x.trees[p]; ok {
		return t, t != nil
	}
	parent, name := path.Split(p)
	pt, ok := x.folder(strings.TrimSuffix(parent, "/"))
	var t *object.Tree
	if ok {
		if e, err := pt.FindEntry(name); err == nil && e.Mode == filemode.Dir {
			t, _ = object.GetTree(x.store, e.Hash)
		}
	}
	x.trees[p] = t
	return t, t != nil
}
