package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Local is a repository on disk opened for reading revisions, as `tether
// plan` does with a CI checkout: it resolves refs, finds merge bases and
// writes a commit's files into a directory of the caller's. It reads only the
// object database: the working tree, the index and HEAD are never touched.
type Local struct {
	dir  string
	repo *git.Repository
}

// OpenLocal opens the repository whose working tree (or bare repository) is dir.
// Linked worktrees (a .git file) work too.
func OpenLocal(dir string) (*Local, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("%s: not a Git repository (expected its top-level folder)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", dir, err)
	}
	return &Local{dir: dir, repo: repo}, nil
}

// Resolve returns the full commit hash ref names: a branch (main,
// origin/main, refs/remotes/origin/main), a tag, HEAD, HEAD~1, or a full or
// abbreviated commit hash.
func (l *Local) Resolve(ref string) (string, error) {
	if ref == "" {
		return "", errors.New("empty revision")
	}
	h, err := l.repo.ResolveRevision(plumbing.Revision(ref))
	if err != nil {
		return "", fmt.Errorf("%s: revision %q not found (a branch, tag or commit; in CI, fetch it first): %w", l.dir, ref, err)
	}
	if _, err := l.repo.CommitObject(*h); err != nil {
		return "", fmt.Errorf("%s: revision %q (%s) is not a commit in this clone: %w", l.dir, ref, h, err)
	}
	return h.String(), nil
}

// MergeBase returns the best common ancestor of commits a and b (full
// hashes), as `git merge-base a b` does; with several equally good ones, the
// smallest hash, so the answer is stable.
func (l *Local) MergeBase(a, b string) (string, error) {
	ca, err := l.repo.CommitObject(plumbing.NewHash(a))
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", a, err)
	}
	cb, err := l.repo.CommitObject(plumbing.NewHash(b))
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", b, err)
	}
	bases, err := ca.MergeBase(cb)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return "", fmt.Errorf("merge base of %s and %s: history incomplete (a shallow clone? fetch with full depth): %w", short(a), short(b), err)
	}
	if err != nil {
		return "", fmt.Errorf("merge base of %s and %s: %w", short(a), short(b), err)
	}
	if len(bases) == 0 {
		return "", fmt.Errorf("merge base of %s and %s: the commits share no history", short(a), short(b))
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i].Hash.String() < bases[j].Hash.String() })
	return bases[0].Hash.String(), nil
}

// WriteTree writes the files of commit (a full hash) into dir, which must be
// empty or not exist: regular files with their executable bit, and symlinks
// as symlinks (render refuses to follow them); submodules are skipped. Files
// are written through os.Root, so no path in the repository can make it
// write outside dir.
func (l *Local) WriteTree(ctx context.Context, commit, dir string) error {
	c, err := l.repo.CommitObject(plumbing.NewHash(commit))
	if err != nil {
		return fmt.Errorf("commit %s: %w", commit, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return fmt.Errorf("commit %s: tree: %w", short(commit), err)
	}
	if err := emptyDir(dir); err != nil {
		return err
	}
	changes, err := object.DiffTreeWithOptions(ctx, nil, tree, nil)
	if err != nil {
		return fmt.Errorf("commit %s: list files: %w", short(commit), err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := applyChanges(l.repo, root, changes); err != nil {
		return fmt.Errorf("commit %s: write files: %w", short(commit), err)
	}
	return nil
}

// emptyDir creates dir, or checks that it exists and is empty.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s: not empty; a revision is written only into an empty folder", dir)
	}
	return nil
}

// short abbreviates a commit hash for messages.
func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}
