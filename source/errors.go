package source

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/crypto/ssh/knownhosts"
)

// The kinds of Sync failure; test with errors.Is. Every kind leaves the last
// good Snapshot in place, and the next Sync retries from scratch, so recovery
// needs nothing but the cause going away.
var (
	// ErrAuth: credentials missing, unreadable or rejected by the remote.
	ErrAuth = errors.New("authentication failed")
	// ErrUntrustedServer: the SSH host key is not in the known hosts, or the
	// TLS certificate does not chain to a trusted CA.
	ErrUntrustedServer = errors.New("server identity not trusted")
	// ErrUnreachable: DNS failure, refused or dropped connection, timeout,
	// or the forge answering 5xx. Transient: retry with backoff.
	ErrUnreachable = errors.New("remote unreachable")
	// ErrNotFound: the repository, branch, tag, commit or path does not exist
	// (e.g. the tracked branch was deleted).
	ErrNotFound = errors.New("not found")
	// ErrUnverified: the head commit is unsigned or not signed by a trusted
	// key; the error is a *VerificationError.
	ErrUnverified = errors.New("commit not verified")
)

// Error is a failed step of Sync against a repository. Its message never
// holds a credential: URLs are redacted and known secrets scrubbed.
type Error struct {
	Op   string // list, fetch, clone, checkout, credentials
	URL  string // redacted
	Kind error  // one of the Err* kinds, or nil when none applies
	Err  error  // the cause
	msg  string // the cause's message, scrubbed
}

func (e *Error) Error() string {
	if e.Kind == nil || strings.Contains(e.msg, e.Kind.Error()) {
		return fmt.Sprintf("%s %s: %s", e.Op, e.URL, e.msg)
	}
	return fmt.Sprintf("%s %s: %v: %s", e.Op, e.URL, e.Kind, e.msg)
}

// Unwrap exposes the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// VerificationError says why the head commit was refused.
type VerificationError struct {
	Revision string // the refused commit
	Reason   string // e.g. "unsigned", "signed by untrusted key SHA256:..."
}

func (e *VerificationError) Error() string {
	return fmt.Sprintf("verify %s: %v: %s", e.Revision, ErrUnverified, e.Reason)
}

// Is makes errors.Is(err, ErrUnverified) true.
func (e *VerificationError) Is(target error) bool { return target == ErrUnverified }

// classify names the kind of a go-git or network error, or returns nil.
func classify(err error) error {
	var (
		keyErr *knownhosts.KeyError
		unexp  *plumbing.UnexpectedError
		netErr net.Error
		x509U  x509.UnknownAuthorityError
		x509H  x509.HostnameError
		x509C  x509.CertificateInvalidError
	)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, ErrAuth):
		return ErrAuth
	case errors.Is(err, ErrUntrustedServer):
		return ErrUntrustedServer
	case errors.Is(err, ErrNotFound):
		return ErrNotFound
	case errors.Is(err, ErrUnreachable):
		return ErrUnreachable
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod), strings.Contains(err.Error(), "unable to authenticate"):
		return ErrAuth
	case errors.Is(err, transport.ErrRepositoryNotFound):
		return ErrNotFound
	case errors.As(err, &keyErr), errors.As(err, &x509U), errors.As(err, &x509H), errors.As(err, &x509C),
		strings.Contains(err.Error(), "knownhosts: key"):
		return ErrUntrustedServer
	case errors.As(err, &unexp) && isHTTPStatus(unexp.Err),
		errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return ErrUnreachable
	}
	return nil
}

// kindError is a failure source itself detects, e.g. a missing branch.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func notFound(format string, args ...any) error {
	return &kindError{kind: ErrNotFound, msg: fmt.Sprintf(format, args...)}
}

func isHTTPStatus(err error) bool {
	var he *githttp.Err
	return errors.As(err, &he)
}
