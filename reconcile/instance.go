package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// maxInstanceLen keeps record names (tether-<instance>-model-<name>) and the
// Lease name (tether-<instance>) well within Kubernetes' limits.
const maxInstanceLen = 40

// DefaultInstance is a daemon's identity when --instance is not given: the
// repository's base name and a digest of where it reads from (repository
// URL, ref and path), so two daemons for different repositories, branches or
// folders never take each other's records for their own. url must carry no
// credentials.
func DefaultInstance(url, ref, dir string) string {
	return defaultInstance(url, ref, dir, maxInstanceLen)
}

// DefaultShardInstance is the identity of one shard of the deployment whose
// unsharded daemon is DefaultInstance(url, ref, dir): that name and -shard,
// the repository's name shortened to keep within 40 characters. shard is a
// DNS label of at most 20 characters; "" is the unsharded daemon.
func DefaultShardInstance(url, ref, dir, shard string) string {
	if shard == "" {
		return DefaultInstance(url, ref, dir)
	}
	return defaultInstance(url, ref, dir, maxInstanceLen-len(shard)-1) + "-" + shard
}

func defaultInstance(url, ref, dir string, room int) string {
	url = strings.TrimSuffix(strings.TrimRight(url, "/"), ".git")
	sum := sha256.Sum256([]byte(url + "\x00" + ref + "\x00" + strings.Trim(dir, "/")))
	base := sanitize(path.Base(strings.ReplaceAll(url, ":", "/")))
	if len(base) > room-9 {
		base = strings.Trim(base[:max(room-9, 0)], "-")
	}
	if base == "" {
		base = "tether"
	}
	return base + "-" + hex.EncodeToString(sum[:4])
}

// sanitize keeps the characters of a DNS label, lowercased.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-' || r == '_' || r == '.':
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// ValidateInstance checks an --instance value: a DNS-1123 label of at most 40
// characters.
func ValidateInstance(s string) error {
	if len(s) > maxInstanceLen {
		return fmt.Errorf("%q: at most %d characters", s, maxInstanceLen)
	}
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return fmt.Errorf("%q: %s", s, strings.Join(errs, "; "))
	}
	return nil
}
