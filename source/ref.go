package source

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
)

// target is what a Repo tracks: the head of a branch, a tag, or one commit
// pinned on a branch.
type target struct {
	branch, tag string
	commit      plumbing.Hash // zero unless pinned
}

func newTarget(branch, tag, commit string) (target, error) {
	if branch == "" {
		branch = "main"
	}
	t := target{branch: branch, tag: tag}
	if commit == "" {
		return t, nil
	}
	if tag != "" {
		return target{}, errors.New("a tag and a commit are mutually exclusive")
	}
	if _, err := hex.DecodeString(commit); err != nil || len(commit) != 40 {
		return target{}, fmt.Errorf("commit %q: expected a full 40-digit hexadecimal SHA-1", commit)
	}
	t.commit = plumbing.NewHash(commit)
	return t, nil
}

// pinned reports whether the target is a fixed commit: nothing to poll.
func (t target) pinned() bool { return !t.commit.IsZero() }

// Ref is the remote reference: refs/tags/<tag> or refs/heads/<branch>.
func (t target) Ref() plumbing.ReferenceName {
	if t.tag != "" {
		return plumbing.NewTagReferenceName(t.tag)
	}
	return plumbing.NewBranchReferenceName(t.branch)
}

// local is where a fetch stores the remote reference.
func (t target) local() plumbing.ReferenceName {
	if t.tag != "" {
		return t.Ref()
	}
	return plumbing.NewRemoteReferenceName("origin", t.branch)
}

func (t target) refSpec() config.RefSpec {
	return config.RefSpec(fmt.Sprintf("+%s:%s", t.Ref(), t.local()))
}

// depth is 1 (only the tip) except for a pinned commit, which may lie
// anywhere in the branch's history.
func (t target) depth() int {
	if t.pinned() {
		return 0
	}
	return 1
}

func (t target) String() string {
	switch {
	case t.tag != "":
		return fmt.Sprintf("tag %q", t.tag)
	case t.pinned():
		return fmt.Sprintf("commit %s on branch %q", t.commit, t.branch)
	}
	return fmt.Sprintf("branch %q", t.branch)
}

// resolve finds the target's commit in an ls-remote answer; for an
// annotated tag that is the peeled reference.
func (t target) resolve(refs []*plumbing.Reference) (plumbing.Hash, error) {
	want, peeled := t.Ref(), plumbing.ReferenceName(t.Ref().String()+"^{}")
	var hash plumbing.Hash
	for _, ref := range refs {
		switch ref.Name() {
		case peeled:
			return ref.Hash(), nil
		case want:
			hash = ref.Hash()
		}
	}
	if hash.IsZero() {
		return hash, notFound("%s not found", t)
	}
	return hash, nil
}
