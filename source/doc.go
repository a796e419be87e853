// Package source fetches the tracked revision of a models repository with
// go-git and hands out immutable snapshots of it; it also authenticates push
// webhooks and parses poll schedules.
//
// It knows Git, not Kubernetes. A Snapshot is a revision (commit hash) and a
// directory holding that revision's files; its TreeHash gives the Git object
// hash of any folder or file of the revision from the commit's tree, without
// reading files (render uses it to render only what changed). Repo tracks a branch head, a tag,
// or a pinned commit in one shallow, single-branch, tagless working clone; an
// unchanged remote head costs one ls-remote and no fetch. Credentials (HTTPS
// basic auth or token, CA bundle, SSH key with mandatory known_hosts) are read
// from files and re-read when they change. With VerifyCommits, a head not
// signed by a trusted OpenPGP or SSH key is refused with a *VerificationError.
// Every Sync failure is an *Error of one kind (ErrAuth, ErrUnreachable, ...)
// whose message holds no credential; credentials written into an HTTP(S) URL
// are passed to go-git as auth, never in the URL, so no file on disk holds
// them either. The webhook decides from headers alone whatever it can (no
// signature, a wrong GitLab token, a too large body) and handles a bounded
// number of requests at once. source never logs; callers decide what to say.
// Scheduling the polls is the caller's (ParseSchedule only parses, and refuses
// schedules that never fire or fire more than once a second).
// RefSet follows every ref matching some patterns (pull request heads, for
// preview environments) in one shallow clone: one ls-remote per List, heads
// fetched once, each checked out into a Worktree of its own, authenticated,
// redacted and verified as the tracked ref is.
// Local reads revisions of a repository already on disk (tether plan): it
// resolves refs, finds merge bases and writes a commit's files into a folder,
// without touching the working tree.
//
//	repo, err := source.New(source.Options{URL: "https://git.example.com/ml/models.git", WorkDir: dir})
//	snap, changed, err := repo.Sync(ctx)
//	if changed { render(snap.Dir) }
package source
