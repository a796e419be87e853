package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Head is a remote ref that matched one of a RefSet's patterns.
type Head struct {
	Ref      string    // e.g. refs/pull/7/head
	Pattern  string    // the pattern it matched, e.g. refs/pull/*/head
	Capture  string    // what the pattern's * stood for: "7"
	Revision string    // the commit the ref points at (an annotated tag peeled)
	Time     time.Time // that commit's committer time
}

// RefSet follows every remote ref matching some patterns (pull request heads:
// refs/pull/*/head) in one shallow bare clone under WorkDir/git, and checks
// their commits out into worktrees of their own. Each List is one ls-remote;
// only heads not yet in the clone are fetched, all at once and at depth 1,
// so a repository with thousands of old pull requests costs their tips once.
// It authenticates, redacts and verifies commits exactly as Repo does, and is
// safe for concurrent use.
type RefSet struct {
	endpoint
	patterns []string
	dir      string

	mu      sync.Mutex
	repo    *git.Repository
	store   *filesystem.Storage
	fetches int                    // since the clone was made
	known   map[plumbing.Hash]bool // trees found complete
}

// NewRefSet checks the options (URL, Auth, Path, WorkDir, VerifyCommits,
// TrustedKeysFile, Timeout; the ref options are not used) and the patterns
// (see CheckRefPattern); it does not touch the network.
func NewRefSet(opts Options, patterns []string) (*RefSet, error) {
	e, err := newEndpoint(opts)
	if err != nil {
		return nil, err
	}
	if opts.WorkDir == "" {
		return nil, errors.New("source: WorkDir is required")
	}
	if len(patterns) == 0 {
		return nil, errors.New("source: no ref patterns")
	}
	for _, p := range patterns {
		if err := CheckRefPattern(p); err != nil {
			return nil, err
		}
	}
	return &RefSet{endpoint: e, patterns: patterns, dir: filepath.Join(opts.WorkDir, gitDirName)}, nil
}

// List asks the remote for its refs (one round trip), fetches the commits of
// matching refs that the clone does not hold yet (one more), and returns the
// matching refs sorted by name. A ref that two patterns match counts for the
// first. On error nothing is returned: a failed listing says nothing about
// which refs exist.
func (s *RefSet) List(ctx context.Context) ([]Head, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	acc, err := s.creds.load()
	if err != nil {
		return nil, s.fail("credentials", err, acc)
	}
	refs, err := s.listRemote(ctx, acc)
	if err != nil {
		return nil, s.fail("list", err, acc)
	}
	heads := s.match(refs)
	if err := s.obtain(ctx, acc, heads); err != nil {
		return nil, s.fail("fetch", err, acc)
	}
	for i := range heads {
		commit, err := s.repo.CommitObject(plumbing.NewHash(heads[i].Revision))
		if err != nil {
			return nil, s.fail("fetch", fmt.Errorf("%s: %w", heads[i].Ref, err), acc)
		}
		heads[i].Time = commit.Committer.When
	}
	return heads, nil
}

// match picks the refs the patterns match out of an ls-remote answer.
func (s *RefSet) match(refs []*plumbing.Reference) []Head {
	hashes := map[string]plumbing.Hash{}
	for _, r := range refs {
		name := r.Name().String()
		if base, peeled := strings.CutSuffix(name, "^{}"); peeled {
			hashes[base] = r.Hash() // an annotated tag: its commit
		} else if _, seen := hashes[name]; !seen && r.Type() == plumbing.HashReference {
			hashes[name] = r.Hash()
		}
	}
	var heads []Head
	for name, h := range hashes {
		for _, p := range s.patterns {
			if capture, ok := matchRef(p, name); ok {
				heads = append(heads, Head{Ref: name, Pattern: p, Capture: capture, Revision: h.String()})
				break
			}
		}
	}
	sort.Slice(heads, func(i, j int) bool { return heads[i].Ref < heads[j].Ref })
	return heads
}

// obtain makes sure the clone holds every head's commit and tree, and drops
// the clone's refs that are no longer listed. When a fetch leaves a head
// incomplete, or the clone has taken maxFetchesPerClone fetches, the clone is
// made afresh.
func (s *RefSet) obtain(ctx context.Context, acc access, heads []Head) error {
	if s.repo == nil || s.fetches >= maxFetchesPerClone {
		if err := s.reset(); err != nil {
			return err
		}
	}
	if err := s.fetch(ctx, acc, s.missing(heads)); err != nil {
		return err
	}
	if missing := s.missing(heads); len(missing) > 0 {
		if err := s.reset(); err != nil {
			return err
		}
		if err := s.fetch(ctx, acc, heads); err != nil {
			return err
		}
		if missing := s.missing(heads); len(missing) > 0 {
			return fmt.Errorf("%s: commit %s incomplete after a fresh fetch", missing[0].Ref, missing[0].Revision)
		}
	}
	return s.pruneRefs(heads)
}

// missing lists the heads whose commit or tree the clone lacks.
func (s *RefSet) missing(heads []Head) []Head {
	var out []Head
	for _, h := range heads {
		if !commitComplete(s.repo, plumbing.NewHash(h.Revision), s.known) {
			out = append(out, h)
		}
	}
	return out
}

// fetch brings heads into the clone at depth 1, in one request.
func (s *RefSet) fetch(ctx context.Context, acc access, heads []Head) error {
	if len(heads) == 0 {
		return nil
	}
	specs := make([]config.RefSpec, len(heads))
	for i, h := range heads {
		specs[i] = config.RefSpec("+" + h.Ref + ":" + h.Ref)
	}
	s.fetches++
	err := s.repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: defaultRemoteName, RefSpecs: specs, Depth: 1, Tags: git.NoTags, Force: true,
		Auth: acc.auth, CABundle: acc.caBundle,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// pruneRefs deletes the clone's refs that are not among heads, so that later
// fetches do not offer them as common history.
func (s *RefSet) pruneRefs(heads []Head) error {
	listed := map[plumbing.ReferenceName]bool{}
	for _, h := range heads {
		listed[plumbing.ReferenceName(h.Ref)] = true
	}
	iter, err := s.repo.References()
	if err != nil {
		return err
	}
	var stale []plumbing.ReferenceName
	_ = iter.ForEach(func(r *plumbing.Reference) error {
		if n := r.Name(); n != plumbing.HEAD && !listed[n] {
			stale = append(stale, n)
		}
		return nil
	})
	for _, n := range stale {
		if err := s.repo.Storer.RemoveReference(n); err != nil {
			return err
		}
	}
	return nil
}

// reset replaces the clone with an empty bare repository.
func (s *RefSet) reset() error {
	if s.store != nil {
		_ = s.store.Close()
	}
	s.repo, s.store, s.fetches, s.known = nil, nil, 0, map[plumbing.Hash]bool{}
	if err := os.RemoveAll(s.dir); err != nil {
		return err
	}
	st := newStore(s.dir)
	repo, err := git.Init(st, nil)
	if err == nil {
		_, err = repo.CreateRemote(&config.RemoteConfig{Name: defaultRemoteName, URLs: []string{s.remote}})
	}
	if err != nil {
		_ = st.Close()
		return err
	}
	s.repo, s.store = repo, st
	return nil
}

// Worktree is a folder holding one revision of a RefSet's refs at a time:
// a preview's checkout. It is not safe for concurrent use.
type Worktree struct {
	set  *RefSet
	wt   worktree
	last Snapshot
}

// Worktree returns the worktree in dir (created on the first Checkout).
func (s *RefSet) Worktree(dir string) *Worktree {
	return &Worktree{set: s, wt: worktree{dir: dir}}
}

// Checkout makes the worktree hold revision, a commit List returned, and
// returns it as a Snapshot (Changed as Repo.Sync sets it). The commit is
// verified (VerifyCommits) and must hold Options.Path. On error the previous
// Snapshot stays, unless the folder was half written.
func (w *Worktree) Checkout(ctx context.Context, revision string) (Snapshot, error) {
	s := w.set
	s.mu.Lock()
	defer s.mu.Unlock()
	head := plumbing.NewHash(revision)
	if s.repo == nil || !commitComplete(s.repo, head, s.known) {
		return w.last, s.fail("checkout", notFound("commit %s is not in the clone; list the refs first", revision), access{})
	}
	if err := s.accept(s.repo, head); err != nil {
		return w.last, s.fail("verify", err, access{})
	}
	changed, err := w.wt.checkout(ctx, s.repo, head, s.path)
	if err != nil {
		w.last = Snapshot{}
		return w.last, s.fail("checkout", err, access{})
	}
	w.last = Snapshot{Revision: revision, Dir: w.wt.snapshotDir(s.path)}
	snap := w.last
	snap.Changed = changed
	return snap, nil
}

// Remove deletes the worktree's folder.
func (w *Worktree) Remove() error {
	w.last, w.wt.tree = Snapshot{}, plumbing.ZeroHash
	return os.RemoveAll(w.wt.dir)
}
