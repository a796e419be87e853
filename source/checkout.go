package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"
)

const treeDirName = "tree" // the checked-out revision, under WorkDir

// worktree is a directory holding the files of one commit, and which commit
// that is (zero when unknown).
type worktree struct {
	dir  string
	tree plumbing.Hash
}

// snapshotDir is the directory of the files under base.
func (w *worktree) snapshotDir(base string) string {
	return filepath.Join(w.dir, filepath.FromSlash(base))
}

// checkout makes the directory hold exactly the files of commit head in
// repo, writing only what differs from the commit it held before (everything
// when that is unknown). go-git's Worktree.Checkout keeps an index and
// re-reads the whole work tree: seconds for a 1000-model repository, where
// one changed model needs one file written. Files are written through
// os.Root, so no path or symlink in the repository can make tether write
// outside the directory.
//
// It returns the paths that changed, relative to base (Options.Path); nil
// when the whole tree was written.
func (w *worktree) checkout(ctx context.Context, repo *git.Repository, head plumbing.Hash, base string) ([]string, error) {
	to, err := treeOf(repo, head)
	if err != nil {
		return nil, err
	}
	from, err := treeOf(repo, w.tree)
	if err != nil || from == nil {
		from = nil
		if err := resetDir(w.dir); err != nil {
			return nil, err
		}
	}
	w.tree = plumbing.ZeroHash // unknown until every change is written
	changes, err := object.DiffTreeWithOptions(ctx, from, to, nil)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", head, err)
	}
	root, err := os.OpenRoot(w.dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if err := applyChanges(repo, root, changes); err != nil {
		return nil, fmt.Errorf("checkout %s: %w", head, err)
	}
	w.tree = head
	if from == nil {
		return nil, nil
	}
	return changedPaths(changes, base), nil
}

// changedPaths lists the changed files under base, relative to it, sorted.
func changedPaths(changes object.Changes, base string) []string {
	out := []string{}
	for _, c := range changes {
		for _, name := range []string{c.From.Name, c.To.Name} {
			rel, ok := strings.CutPrefix(name, base+"/")
			if base == "" {
				rel, ok = name, name != ""
			}
			if ok {
				out = append(out, rel)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// treeOf is the tree of a commit in repo; nil for the zero hash.
func treeOf(repo *git.Repository, h plumbing.Hash) (*object.Tree, error) {
	if h.IsZero() {
		return nil, nil
	}
	commit, err := repo.CommitObject(h)
	if err != nil {
		return nil, err
	}
	return commit.Tree()
}

func resetDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// applyChanges removes deleted files first, so that a path can turn from a
// directory into a file or back, then writes added and modified ones, reading
// blobs from repo.
func applyChanges(repo *git.Repository, root *os.Root, changes object.Changes) error {
	for _, c := range changes {
		if action, err := c.Action(); err != nil {
			return err
		} else if action == merkletrie.Delete {
			if err := removeFile(root, filepath.FromSlash(c.From.Name)); err != nil {
				return err
			}
		}
	}
	for _, c := range changes {
		if c.To.Name != "" {
			if err := writeEntry(repo, root, c.To); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeFile removes a file and the directories it leaves empty: a model
// folder deleted in Git must not linger as an empty folder.
func removeFile(root *os.Root, name string) error {
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for dir := filepath.Dir(name); dir != "."; dir = filepath.Dir(dir) {
		if root.Remove(dir) != nil {
			break // not empty
		}
	}
	return nil
}

// writeEntry writes one file, executable or symlink; submodules are skipped.
func writeEntry(repo *git.Repository, root *os.Root, e object.ChangeEntry) error {
	mode := e.TreeEntry.Mode
	if mode == filemode.Submodule {
		return nil
	}
	name := filepath.FromSlash(e.Name)
	if err := root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	blob, err := repo.BlobObject(e.TreeEntry.Hash)
	if err != nil {
		return fmt.Errorf("%s: %w", e.Name, err)
	}
	rd, err := blob.Reader()
	if err != nil {
		return err
	}
	defer rd.Close()
	if mode == filemode.Symlink {
		target, err := io.ReadAll(io.LimitReader(rd, 4096))
		if err != nil {
			return err
		}
		return root.Symlink(string(target), name)
	}
	perm := os.FileMode(0o644)
	if mode == filemode.Executable {
		perm = 0o755
	}
	return writeFrom(root, name, perm, rd)
}

func writeFrom(root *os.Root, name string, perm os.FileMode, rd io.Reader) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rd); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
