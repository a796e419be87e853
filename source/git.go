package source

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Options say which repository and revision to track, with which
// credentials, and where to keep the clone.
type Options struct {
	URL     string // https://, http://, ssh://, git@host:path, file:// or a local path
	Branch  string // default main
	Tag     string // track this tag instead of the branch head
	Commit  string // pin this full commit SHA (looked up on Branch); nothing is polled
	Path    string // subfolder holding the models repository layout
	WorkDir string // where the working clone lives; created if missing
	Auth    Auth

	// VerifyCommits refuses a head commit that is not signed by a key in
	// TrustedKeysFile (armored OpenPGP public keys and/or SSH allowed_signers).
	VerifyCommits   bool
	TrustedKeysFile string

	Timeout time.Duration // bound on one Sync; default 5m
}

// Snapshot is one revision of the tracked branch checked out on disk. Dir stays
// valid until the next Sync.
type Snapshot struct {
	Revision string // full commit hash
	Dir      string // the revision's files, Options.Path applied
	// Changed lists the files (slash-separated, relative to Dir) that differ
	// from the previous Snapshot. It is set only when Sync reports a change,
	// and nil when unknown (the first Sync, a fresh clone): then treat
	// everything as changed.
	Changed []string
	tree    *treeIndex // see TreeHash
	Commit  Commit     // who made the revision and when, for lineage
}

// Commit describes a revision's commit.
type Commit struct {
	Author  string    // "Name <email>"
	Time    time.Time // author time
	Subject string    // first line of the message
}

// Repo tracks one ref of one repository: a bare clone under WorkDir/git and
// the tracked revision's files under WorkDir/tree. It is not safe for
// concurrent use; one loop owns it.
type Repo struct {
	endpoint
	opts    Options
	target  target
	repo    *git.Repository
	store   *filesystem.Storage
	fetches int // since the last clone
	// completeTrees are trees found to have every object they need in the clone.
	completeTrees map[plumbing.Hash]bool
	wt            worktree // the tracked revision's files, under WorkDir/tree
	last          Snapshot
}

// New checks the options; it does not touch the network or read credentials.
func New(opts Options) (*Repo, error) {
	e, err := newEndpoint(opts)
	if err != nil {
		return nil, err
	}
	tgt, err := newTarget(opts.Branch, opts.Tag, opts.Commit)
	if err != nil {
		return nil, err
	}
	if opts.WorkDir == "" {
		return nil, errors.New("source: WorkDir is required")
	}
	opts.Path = e.path
	return &Repo{endpoint: e, opts: opts, target: tgt, wt: worktree{dir: filepath.Join(opts.WorkDir, treeDirName)}}, nil
}

// cleanPath makes Options.Path a slash-separated path inside the repository.
func cleanPath(p string) (string, error) {
	c := path.Clean(strings.TrimLeft(filepath.ToSlash(p), "/"))
	switch {
	case c == ".":
		return "", nil
	case c == ".." || strings.HasPrefix(c, "../"):
		return "", fmt.Errorf("path %q leaves the repository", p)
	}
	return c, nil
}

// Ref is the tracked remote reference (refs/heads/<branch> or
// refs/tags/<tag>), which push webhooks are matched against.
func (r *Repo) Ref() string { return r.target.Ref().String() }

// Sync brings the clone to the tracked revision. changed is false when it is
// the revision of the previous Sync; then nothing was fetched. On error the
// previous Snapshot is returned: it stays the last good revision.
func (r *Repo) Sync(ctx context.Context) (Snapshot, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	acc, err := r.creds.load()
	if err != nil {
		return r.last, false, r.fail("credentials", err, acc)
	}
	head, err := r.remoteHead(ctx, acc)
	if err != nil {
		return r.last, false, r.fail("list", err, acc)
	}
	if r.repo != nil && head.String() == r.last.Revision {
		return r.last, false, nil
	}
	if head, err = r.obtain(ctx, acc, head); err != nil {
		return r.last, false, r.fail("fetch", err, acc)
	}
	if head.String() == r.last.Revision {
		return r.last, false, nil
	}
	if err := r.accept(r.repo, head); err != nil {
		return r.last, false, r.fail("verify", err, acc)
	}
	changed, err := r.wt.checkout(ctx, r.repo, head, r.path)
	if err != nil {
		r.last = Snapshot{} // the tree directory is half written
		return r.last, false, r.fail("checkout", err, acc)
	}
	r.last = Snapshot{Revision: head.String(), Dir: r.wt.snapshotDir(r.path), Commit: commitOf(r.repo, head)}
	if root, err := treeOf(r.repo, head); err == nil {
		r.last.tree = newTreeIndex(r.repo.Storer, root, r.path)
	}
	snap := r.last
	snap.Changed = changed
	return snap, true, nil
}

// commitOf describes commit head; zero when it cannot be read (accept read
// it a moment ago).
func commitOf(repo *git.Repository, head plumbing.Hash) Commit {
	c, err := repo.CommitObject(head)
	if err != nil {
		return Commit{}
	}
	subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	return Commit{Author: c.Author.Name + " <" + c.Author.Email + ">", Time: c.Author.When, Subject: subject}
}

// remoteHead asks the remote for the tracked commit: one round trip, no
// objects. A pinned commit needs no question.
func (r *Repo) remoteHead(ctx context.Context, acc access) (plumbing.Hash, error) {
	if r.target.pinned() {
		return r.target.commit, nil
	}
	refs, err := r.listRemote(ctx, acc)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return r.target.resolve(refs)
}
