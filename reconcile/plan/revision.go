package plan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tether-ml/tether/render"
	"github.com/tether-ml/tether/source"
)

// Source names the two revisions of a plan in a repository on disk.
type Source struct {
	Dir  string // the repository (its top-level folder)
	Base string // the branch the pull request targets: main, origin/main
	Head string // the pull request's revision: HEAD, a branch or a commit
	Path string // subfolder holding models/ (the daemon's --path)
	// Render are the daemon's flags; each revision's tether.yaml is merged
	// with them as the daemon does (Settings.Resolve).
	Render render.Options
}

// Load renders the merge base of Base and Head, and Head, each from its own
// copy of the revision's files in a temporary folder (the repository's
// working tree is never read or written); the copies are removed before it
// returns. An invalid tether.yaml is the revision's Err; err is for what
// stops the plan (a ref or the merge base not found, a path missing in Head).
func Load(ctx context.Context, src Source) (base, head Revision, err error) {
	if src.Path, err = cleanPath(src.Path); err != nil {
		return base, head, err
	}
	repo, err := source.OpenLocal(src.Dir)
	if err != nil {
		return base, head, err
	}
	headCommit, err := repo.Resolve(src.Head)
	if err != nil {
		return base, head, err
	}
	baseTip, err := repo.Resolve(src.Base)
	if err != nil {
		return base, head, err
	}
	mergeBase, err := repo.MergeBase(baseTip, headCommit)
	if err != nil {
		return base, head, err
	}
	tmp, err := os.MkdirTemp("", "tether-plan-")
	if err != nil {
		return base, head, err
	}
	defer os.RemoveAll(tmp)
	base = Revision{Ref: src.Base, Commit: mergeBase}
	head = Revision{Ref: src.Head, Commit: headCommit}
	if err := renderCommit(ctx, repo, &base, filepath.Join(tmp, "base"), src, true); err != nil {
		return base, head, err
	}
	err = renderCommit(ctx, repo, &head, filepath.Join(tmp, "head"), src, false)
	return base, head, err
}

// renderCommit writes a commit's files into dir and renders them with the
// daemon's code into rev. A revision without the path is an error, except
// in the base, which then renders nothing (the pull request adds the folder).
func renderCommit(ctx context.Context, repo *source.Local, rev *Revision, dir string, src Source, isBase bool) error {
	if err := repo.WriteTree(ctx, rev.Commit, dir); err != nil {
		return err
	}
	root := filepath.Join(dir, filepath.FromSlash(src.Path))
	if fi, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) || (err == nil && !fi.IsDir()) {
		if isBase {
			rev.Result = &render.Result{}
			return nil
		}
		return fmt.Errorf("path %q not found in revision %s", src.Path, shortHash(rev.Commit))
	}
	rev.Result, rev.Err = render.Repository(root, src.Render)
	return nil
}

// cleanPath makes --path a slash path inside the repository, "" for its root.
func cleanPath(p string) (string, error) {
	s := filepath.ToSlash(p)
	c := path.Clean(s)
	switch {
	case path.IsAbs(s) || c == ".." || strings.HasPrefix(c, "../"):
		return "", fmt.Errorf("path %q: expected a relative path inside the repository", p)
	case c == ".":
		return "", nil
	}
	return c, nil
}
