package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Options say which repository and branch to track and where to keep the clone.
type Options struct {
	URL     string // https://, http://, ssh://, git@host:path, file:// or a local path
	Branch  string // default main
	Path    string // subfolder holding the models repository layout
	WorkDir string // where the working clone lives; created if missing
}

// Snapshot is one revision of the tracked branch checked out on disk. Dir stays
// valid until the next Sync.
type Snapshot struct {
	Revision string // full commit hash
	Dir      string // the revision's files, Options.Path applied
}

// Repo is a working clone of one branch of one repository. It is not safe for
// concurrent use; one loop owns it.
type Repo struct {
	opts Options
	url  string
	repo *git.Repository
	last Snapshot
}

// New checks the options; it does not touch the network.
func New(opts Options) (*Repo, error) {
	u, err := normalizeURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if opts.Branch == "" {
		opts.Branch = "main"
	}
	if opts.WorkDir == "" {
		return nil, errors.New("source: WorkDir is required")
	}
	return &Repo{opts: opts, url: u}, nil
}

// URL is the repository URL with credentials redacted.
func (r *Repo) URL() string { return Redact(r.url) }

// Sync brings the clone to the branch head. changed is false when the head is
// the revision of the previous Sync; then nothing was fetched.
func (r *Repo) Sync(ctx context.Context) (Snapshot, bool, error) {
	head, err := r.remoteHead(ctx)
	if err != nil {
		return r.last, false, redactErr(err, r.url)
	}
	if r.repo != nil && head.String() == r.last.Revision {
		return r.last, false, nil
	}
	if err := r.checkout(ctx, head); err != nil {
		return r.last, false, redactErr(err, r.url)
	}
	r.last = Snapshot{Revision: head.String(), Dir: filepath.Join(r.cloneDir(), filepath.FromSlash(r.opts.Path))}
	return r.last, true, nil
}

// remoteHead asks the remote for the branch head: one round trip, no objects.
func (r *Repo) remoteHead(ctx context.Context) (plumbing.Hash, error) {
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{r.url}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{})
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("list %s: %w", r.url, err)
	}
	want := plumbing.NewBranchReferenceName(r.opts.Branch)
	for _, ref := range refs {
		if ref.Name() == want {
			return ref.Hash(), nil
		}
	}
	return plumbing.ZeroHash, fmt.Errorf("list %s: branch %q not found", r.url, r.opts.Branch)
}

func (r *Repo) cloneDir() string { return filepath.Join(r.opts.WorkDir, "repo") }

// checkout fetches head into the working clone and checks it out; if the clone
// is missing or broken it is cloned afresh.
func (r *Repo) checkout(ctx context.Context, head plumbing.Hash) error {
	if r.repo != nil {
		if err := r.fetch(ctx, head); err == nil {
			return nil
		}
	}
	return r.clone(ctx, head)
}

func (r *Repo) clone(ctx context.Context, head plumbing.Hash) error {
	dir := r.cloneDir()
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	repo, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{
		URL:           r.url,
		ReferenceName: plumbing.NewBranchReferenceName(r.opts.Branch),
		SingleBranch:  true,
		Depth:         1,
		Tags:          git.NoTags,
	})
	if err != nil {
		r.repo = nil
		return fmt.Errorf("clone %s: %w", r.url, err)
	}
	r.repo = repo
	return r.switchTo(head)
}

func (r *Repo) fetch(ctx context.Context, head plumbing.Hash) error {
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/remotes/origin/%s", r.opts.Branch, r.opts.Branch))
	err := r.repo.FetchContext(ctx, &git.FetchOptions{RefSpecs: []config.RefSpec{spec}, Depth: 1, Tags: git.NoTags, Force: true})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch %s: %w", r.url, err)
	}
	return r.switchTo(head)
}

// switchTo checks out the commit the remote reported as the head.
func (r *Repo) switchTo(head plumbing.Hash) error {
	wt, err := r.repo.Worktree()
	if err != nil {
		return err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: head, Force: true}); err != nil {
		return fmt.Errorf("checkout %s: %w", head, err)
	}
	return nil
}
