package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Memory bounds for large repositories: go-git's default object cache holds
// 96 MiB, and blobs of any size are read whole into memory. With these, RSS
// stays flat however large the tree is (docs/BENCHMARKS.md, "Git source").
const (
	objectCacheSize  = 16 * cache.MiByte
	largeObjectBytes = 1 << 20 // bigger blobs are streamed, never cached
	gitDirName       = "git"   // the bare clone, under WorkDir
	// Each fetch adds a packfile that every object lookup searches; after this
	// many the next update is a fresh shallow clone instead.
	maxFetchesPerClone = 100
	defaultRemoteName  = "origin"
)

func (r *Repo) gitDir() string { return filepath.Join(r.opts.WorkDir, gitDirName) }

// obtain makes sure the tracked commit is complete in the working clone and
// returns it as the clone now sees it (the branch may have moved since
// ls-remote). A commit already present (a head moved back, a head refused
// before) costs no fetch. Updates are fetched incrementally; when that leaves
// the head incomplete, the clone is too old (maxFetchesPerClone) or go-git
// cannot apply the fetch, a fresh shallow clone replaces it. A remote failure
// keeps the clone as it is.
func (r *Repo) obtain(ctx context.Context, acc access, head plumbing.Hash) (plumbing.Hash, error) {
	if r.repo != nil && r.fetches < maxFetchesPerClone {
		if r.complete(head) {
			return head, nil
		}
		err := r.fetch(ctx, acc)
		if err != nil && classify(err) != nil {
			return plumbing.ZeroHash, err
		}
		if err == nil {
			local, err := r.localHead()
			if err != nil || r.complete(local) {
				return local, err
			}
		}
	}
	if err := r.clone(ctx, acc); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.localHead()
}

// complete reports whether the commit and every object its tree needs are in
// the clone. An incremental fetch into a shallow clone leaves out objects the
// server believes the clone has from history it never fetched (a head
// rewritten onto a commit older than the clone), and go-git's checkout would
// silently skip a missing subtree.
func (r *Repo) complete(h plumbing.Hash) bool {
	return commitComplete(r.repo, h, r.completeTrees)
}

// commitComplete reports whether commit h of repo and its whole tree are
// there; known lists trees already found complete.
func commitComplete(repo *git.Repository, h plumbing.Hash, known map[plumbing.Hash]bool) bool {
	commit, err := repo.CommitObject(h)
	return err == nil && treeComplete(repo.Storer, commit.TreeHash, known)
}

// treeComplete walks the tree itself (object.TreeWalker reports a missing
// subtree as the end of the walk), skipping subtrees already found complete:
// a new head shares all but a few with the last one.
func treeComplete(st storer.EncodedObjectStorer, h plumbing.Hash, known map[plumbing.Hash]bool) bool {
	if known[h] {
		return true
	}
	tree, err := object.GetTree(st, h)
	if err != nil {
		return false
	}
	for _, e := range tree.Entries {
		switch {
		case e.Mode == filemode.Submodule:
		case e.Mode == filemode.Dir:
			if !treeComplete(st, e.Hash, known) {
				return false
			}
		case st.HasEncodedObject(e.Hash) != nil:
			return false
		}
	}
	known[h] = true
	return true
}

// clone makes a fresh shallow, single-branch, tagless, bare clone. The
// checked-out tree is separate and stays the last good snapshot.
func (r *Repo) clone(ctx context.Context, acc access) error {
	r.closeStore()
	dir := r.gitDir()
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	st := newStore(dir)
	repo, err := git.CloneContext(ctx, st, nil, &git.CloneOptions{
		URL:           r.remote,
		RemoteName:    defaultRemoteName,
		Auth:          acc.auth,
		CABundle:      acc.caBundle,
		ReferenceName: r.target.Ref(),
		SingleBranch:  true,
		Depth:         r.target.depth(),
		Tags:          git.NoTags,
	})
	if err != nil {
		_ = st.Close()
		return err
	}
	r.repo, r.store = repo, st
	return nil
}

// newStore is a bare repository's storage in dir, with memory bounded for
// large repositories (see objectCacheSize).
func newStore(dir string) *filesystem.Storage {
	return filesystem.NewStorageWithOptions(osfs.New(dir), cache.NewObjectLRU(objectCacheSize),
		filesystem.Options{KeepDescriptors: true, LargeObjectThreshold: largeObjectBytes})
}

// closeStore forgets the clone and closes the packfiles it keeps open.
func (r *Repo) closeStore() {
	if r.store != nil {
		_ = r.store.Close()
	}
	r.repo, r.store, r.fetches, r.completeTrees = nil, nil, 0, map[plumbing.Hash]bool{}
}

// fetch brings the tracked ref up to date without deepening: go-git does not
// ask for thin packs, so a shallow fetch (deepen 1) makes git upload-pack send
// the head's whole tree again, while a plain fetch sends only new objects.
func (r *Repo) fetch(ctx context.Context, acc access) error {
	r.fetches++
	err := r.repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: defaultRemoteName,
		RefSpecs:   []config.RefSpec{r.target.refSpec()},
		Tags:       git.NoTags,
		Force:      true,
		Auth:       acc.auth,
		CABundle:   acc.caBundle,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// localHead is the tracked commit as the clone has it: the fetched branch or
// tag (an annotated tag peeled to its commit), or the pinned commit.
func (r *Repo) localHead() (plumbing.Hash, error) {
	if r.target.pinned() {
		if _, err := r.repo.CommitObject(r.target.commit); err != nil {
			return plumbing.ZeroHash, notFound("%s not found", r.target)
		}
		return r.target.commit, nil
	}
	ref, err := r.repo.Reference(r.target.local(), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: %w", r.target, err)
	}
	if tag, err := r.repo.TagObject(ref.Hash()); err == nil {
		commit, err := tag.Commit()
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("%s: %w", r.target, err)
		}
		return commit.Hash, nil
	}
	return ref.Hash(), nil
}
