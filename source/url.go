package source

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// normalizeURL turns a local path or file:// URL into an absolute path that
// must exist, and passes remote URLs (https://, http://, ssh://, git@host:path)
// through unchanged.
func normalizeURL(raw string) (string, error) {
	switch {
	case raw == "":
		return "", fmt.Errorf("repository URL is empty")
	case strings.HasPrefix(raw, "file://"):
		return localPath(strings.TrimPrefix(raw, "file://"))
	case isRemote(raw):
		if _, err := url.Parse(raw); err != nil && strings.Contains(raw, "://") {
			return "", fmt.Errorf("invalid repository URL %s", Redact(raw))
		}
		return raw, nil
	default:
		return localPath(raw)
	}
}

func isRemote(raw string) bool {
	for _, p := range []string{"https://", "http://", "ssh://", "git://"} {
		if strings.HasPrefix(raw, p) {
			return true
		}
	}
	// scp-like syntax: user@host:path
	at, colon := strings.Index(raw, "@"), strings.Index(raw, ":")
	return at > 0 && colon > at
}

func localPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("repository %s does not exist", abs)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("repository %s is not a directory", abs)
	}
	return abs, nil
}

// Redact removes every credential from a repository URL so it can be shown:
// the password, and for HTTP(S) a user name given without one (a token, as
// in https://<token>@github.com/...). Of a URL that does not parse, all
// between the scheme and the last '@' is hidden: where its credentials end
// cannot be known.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if scheme, rest, ok := strings.Cut(raw, "://"); ok {
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				return scheme + "://***@" + rest[at+1:]
			}
		}
		return raw
	}
	if u.User == nil {
		return raw
	}
	var info string
	if _, has := u.User.Password(); has {
		info = url.User(u.User.Username()).String() + ":***"
	} else if isHTTP(raw) {
		info = "***"
	} else {
		return raw // ssh://git@host/...: an SSH user is no secret
	}
	u.User = nil
	scheme, rest, _ := strings.Cut(u.String(), "://")
	return scheme + "://" + info + "@" + rest
}

// withoutUserinfo is an HTTP(S) URL without its credentials, which go-git
// would otherwise write into the clone's config and its error messages; they
// are passed as auth instead (see urlCredentials). Other URLs pass unchanged.
func withoutUserinfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || !isHTTP(raw) {
		return raw
	}
	u.User = nil
	return u.String()
}

// urlCredentials returns the HTTP(S) basic-auth user and password written
// into a URL; ok is false when it has none.
func urlCredentials(raw string) (user, password string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || !isHTTP(raw) {
		return "", "", false
	}
	password, _ = u.User.Password()
	return u.User.Username(), password, true
}

// urlSecrets are the spellings of the credentials in a URL that must not be
// shown: the password (or, for HTTP(S), a user name without one) as written,
// decoded and escaped. (A URL that does not parse never gets this far: New
// refuses it.)
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return nil
	}
	_, rest, _ := strings.Cut(raw, "://")
	authority, _, _ := strings.Cut(rest, "/")
	written, _, _ := cutLast(authority, "@")
	secret := u.User.Username()
	if p, has := u.User.Password(); has {
		secret = p
		_, written, _ = strings.Cut(written, ":")
	} else if !isHTTP(raw) {
		return nil
	}
	return []string{written, secret, url.QueryEscape(secret), url.PathEscape(secret)}
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// isSSH reports whether a remote URL uses the SSH transport.
func isSSH(u string) bool {
	return strings.HasPrefix(u, "ssh://") || (isRemote(u) && !strings.Contains(u, "://"))
}

// isHTTP reports whether a remote URL uses smart HTTP.
func isHTTP(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

// scrubber replaces every known credential in a message with ***: the
// repository URL's (see urlSecrets) and any secret read from a file. Secrets
// shorter than four bytes are left alone; replacing them would mangle the
// message without protecting anything.
func scrubber(rawURL string, secrets ...string) *strings.Replacer {
	var pairs []string
	if safe := Redact(rawURL); safe != rawURL {
		pairs = append(pairs, rawURL, safe)
	}
	secrets = append(urlSecrets(rawURL), secrets...)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) }) // longest first
	for _, s := range secrets {
		if len(s) >= 4 {
			pairs = append(pairs, s, "***")
		}
	}
	return strings.NewReplacer(pairs...)
}
