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
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
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
	Commit  Commit // who made the revision and when, for lineage
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
	opts    Options
	url     string // as given (normalised); shown only through Redact
	remote  string // url without HTTP(S) credentials, for go-git (see withoutUserinfo)
	target  target
	creds   *credentials
	trust   *trustedKeys // nil unless verifying
	repo    *git.Repository
	store   *filesystem.Storage
	fetches int // since the last clone
	// completeTrees are trees found to have every object they need in the clone.
	completeTrees map[plumbing.Hash]bool
	tree          plumbing.Hash // the commit whose files the tree directory holds
	last          Snapshot
}

// New checks the options; it does not touch the network or read credentials.
func New(opts Options) (*Repo, error) {
	u, err := normalizeURL(opts.URL)
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
	if opts.Path, err = cleanPath(opts.Path); err != nil {
		return nil, err
	}
	creds, err := newCredentials(opts.Auth, u)
	if err != nil {
		return nil, err
	}
	r := &Repo{opts: opts, url: u, remote: withoutUserinfo(u), target: tgt, creds: creds}
	if opts.VerifyCommits {
		if opts.TrustedKeysFile == "" {
			return nil, errors.New("verifying commits needs a trusted keys file")
		}
		r.trust = &trustedKeys{file: newWatchedFile(opts.TrustedKeysFile)}
	}
	if r.opts.Timeout <= 0 {
		r.opts.Timeout = 5 * time.Minute
	}
	return r, nil
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

// URL is the repository URL with credentials redacted.
func (r *Repo) URL() string { return Redact(r.url) }

// Ref is the tracked remote reference (refs/heads/<branch> or
// refs/tags/<tag>), which push webhooks are matched against.
func (r *Repo) Ref() string { return r.target.Ref().String() }

// Sync brings the clone to the tracked revision. changed is false when it is
// the revision of the previous Sync; then nothing was fetched. On error the
// previous Snapshot is returned: it stays the last good revision.
func (r *Repo) Sync(ctx context.Context) (Snapshot, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
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
	if err := r.accept(head); err != nil {
		return r.last, false, r.fail("verify", err, acc)
	}
	changed, err := r.checkout(ctx, head)
	if err != nil {
		r.last = Snapshot{} // the tree directory is half written
		return r.last, false, r.fail("checkout", err, acc)
	}
	r.last = Snapshot{Revision: head.String(), Dir: filepath.Join(r.treeDir(), filepath.FromSlash(r.opts.Path)), Commit: r.commitOf(head)}
	snap := r.last
	snap.Changed = changed
	return snap, true, nil
}

// commitOf describes commit head; zero when it cannot be read (accept read
// it a moment ago).
func (r *Repo) commitOf(head plumbing.Hash) Commit {
	c, err := r.repo.CommitObject(head)
	if err != nil {
		return Commit{}
	}
	subject, _, _ := strings.Cut(strings.TrimSpace(c.Message), "\n")
	return Commit{Author: c.Author.Name + " <" + c.Author.Email + ">", Time: c.Author.When, Subject: subject}
}

// fail wraps err with its step and kind; a VerificationError passes as is.
func (r *Repo) fail(op string, err error, acc access) error {
	var ve *VerificationError
	if errors.As(err, &ve) {
		return ve
	}
	msg := scrubber(r.url, acc.secrets...).Replace(err.Error())
	return &Error{Op: op, URL: r.URL(), Kind: classify(err), Err: err, msg: msg}
}

// remoteHead asks the remote for the tracked commit: one round trip, no
// objects. A pinned commit needs no question.
func (r *Repo) remoteHead(ctx context.Context, acc access) (plumbing.Hash, error) {
	if r.target.pinned() {
		return r.target.commit, nil
	}
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{r.remote}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: acc.auth, CABundle: acc.caBundle, PeelingOption: git.AppendPeeled})
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return r.target.resolve(refs)
}
