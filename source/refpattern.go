package source

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// CheckRefPattern checks a ref pattern of a RefSet: a full ref name
// (refs/...) with exactly one '*', which stands for one or more characters,
// '/' included, as in a git refspec: refs/pull/*/head (GitHub),
// refs/merge-requests/*/head (GitLab), refs/heads/preview/* (branches).
func CheckRefPattern(p string) error {
	switch {
	case !strings.HasPrefix(p, "refs/"):
		return fmt.Errorf("ref pattern %q: expected a full ref name starting with refs/, e.g. refs/pull/*/head", p)
	case strings.Count(p, "*") != 1:
		return fmt.Errorf("ref pattern %q: expected exactly one *, e.g. refs/pull/*/head", p)
	}
	if err := plumbing.ReferenceName(strings.Replace(p, "*", "x", 1)).Validate(); err != nil {
		return fmt.Errorf("ref pattern %q: %v", p, err)
	}
	return nil
}

// matchRef reports whether ref matches pattern (see CheckRefPattern) and
// what the '*' stood for.
func matchRef(pattern, ref string) (string, bool) {
	prefix, suffix, _ := strings.Cut(pattern, "*")
	if len(ref) <= len(prefix)+len(suffix) || !strings.HasPrefix(ref, prefix) || !strings.HasSuffix(ref, suffix) {
		return "", false
	}
	return ref[len(prefix) : len(ref)-len(suffix)], true
}
