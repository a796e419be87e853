package source

import (
	"context"
	"errors"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

// endpoint is a remote repository, how to reach it and which of its commits
// to trust: what a Repo (one tracked ref) and a RefSet (every ref matching
// some patterns) share, so both authenticate, redact and verify alike.
type endpoint struct {
	url     string // as given (normalised); shown only through Redact
	remote  string // url without HTTP(S) credentials, for go-git (see withoutUserinfo)
	path    string // Options.Path, cleaned
	creds   *credentials
	trust   *trustedKeys // nil unless verifying
	timeout time.Duration
}

// newEndpoint checks the options that say where the repository is and how
// to trust it; it does not touch the network or read credentials.
func newEndpoint(opts Options) (endpoint, error) {
	u, err := normalizeURL(opts.URL)
	if err != nil {
		return endpoint{}, err
	}
	p, err := cleanPath(opts.Path)
	if err != nil {
		return endpoint{}, err
	}
	creds, err := newCredentials(opts.Auth, u)
	if err != nil {
		return endpoint{}, err
	}
	e := endpoint{url: u, remote: withoutUserinfo(u), path: p, creds: creds, timeout: opts.Timeout}
	if opts.VerifyCommits {
		if opts.TrustedKeysFile == "" {
			return endpoint{}, errors.New("verifying commits needs a trusted keys file")
		}
		e.trust = &trustedKeys{file: newWatchedFile(opts.TrustedKeysFile)}
	}
	if e.timeout <= 0 {
		e.timeout = 5 * time.Minute
	}
	return e, nil
}

// URL is the repository URL with credentials redacted.
func (e *endpoint) URL() string { return Redact(e.url) }

// fail wraps err with its step and kind; a VerificationError passes as is.
func (e *endpoint) fail(op string, err error, acc access) error {
	var ve *VerificationError
	if errors.As(err, &ve) {
		return ve
	}
	msg := scrubber(e.url, acc.secrets...).Replace(err.Error())
	return &Error{Op: op, URL: e.URL(), Kind: classify(err), Err: err, msg: msg}
}

// listRemote is one ls-remote: every ref the remote advertises, annotated
// tags also peeled. One round trip, no objects.
func (e *endpoint) listRemote(ctx context.Context, acc access) ([]*plumbing.Reference, error) {
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: defaultRemoteName, URLs: []string{e.remote}})
	return remote.ListContext(ctx, &git.ListOptions{Auth: acc.auth, CABundle: acc.caBundle, PeelingOption: git.AppendPeeled})
}
