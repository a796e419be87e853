package source

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
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

// Redact removes any password or token from a URL so it can be logged.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "redacted")
		return strings.Replace(u.String(), "redacted", "***", 1)
	}
	return u.String()
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
// password in the repository URL (plain and escaped) and any secret read
// from a file. Secrets shorter than four bytes are left alone; replacing them
// would mangle the message without protecting anything.
func scrubber(rawURL string, secrets ...string) *strings.Replacer {
	var pairs []string
	if safe := Redact(rawURL); safe != rawURL {
		pairs = append(pairs, rawURL, safe)
	}
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	for _, s := range secrets {
		if len(s) >= 4 {
			pairs = append(pairs, s, "***")
		}
	}
	return strings.NewReplacer(pairs...)
}
