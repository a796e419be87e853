// Package source fetches the tracked branch of a models repository with go-git
// and hands out immutable snapshots of it.
//
// It knows Git, not Kubernetes: a Snapshot is a revision (commit hash) and a
// directory holding that revision's files. An unchanged remote head costs one
// ls-remote and no fetch. Credentials never leave the package: URLs in errors
// are redacted. source never logs; callers decide what to say.
//
//	repo, err := source.New(source.Options{URL: "https://git.example.com/ml/models.git", Branch: "main", WorkDir: dir})
//	snap, changed, err := repo.Sync(ctx)
//	if changed { render(snap.Dir) }
package source
