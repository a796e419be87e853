package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// allowedSigner is one line of an OpenSSH allowed_signers file (ssh-keygen(1),
// "ALLOWED SIGNERS"): principals, options, a public key.
type allowedSigner struct {
	principals  string
	key         ssh.PublicKey
	namespaces  []string // empty: every namespace
	validAfter  time.Time
	validBefore time.Time
}

// parseAllowedSigners reads allowed_signers lines; blank lines and comments
// are skipped. cert-authority lines are refused rather than ignored, so that a
// key the operator meant to trust is never silently dropped.
func parseAllowedSigners(data []byte) ([]allowedSigner, error) {
	var out []allowedSigner
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseAllowedSigner(line)
		if err != nil {
			return nil, fmt.Errorf("allowed signers line %d: %w", n, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

func parseAllowedSigner(line string) (allowedSigner, error) {
	principals, rest := splitField(line)
	if rest == "" {
		return allowedSigner{}, errors.New("expected principals and a public key")
	}
	key, _, options, _, err := ssh.ParseAuthorizedKey([]byte(rest))
	if err != nil {
		return allowedSigner{}, fmt.Errorf("public key: %w", err)
	}
	s := allowedSigner{principals: strings.Trim(principals, `"`), key: key}
	for _, opt := range options {
		if err := s.setOption(opt); err != nil {
			return allowedSigner{}, err
		}
	}
	return s, nil
}

// splitField splits off the first field, which may be double-quoted.
func splitField(line string) (string, string) {
	if strings.HasPrefix(line, `"`) {
		if end := strings.Index(line[1:], `"`); end >= 0 {
			return line[:end+2], strings.TrimSpace(line[end+2:])
		}
	}
	field, rest, _ := strings.Cut(line, " ")
	return field, strings.TrimSpace(rest)
}

func (s *allowedSigner) setOption(opt string) error {
	name, value, _ := strings.Cut(opt, "=")
	value = strings.Trim(value, `"`)
	var err error
	switch strings.ToLower(name) {
	case "namespaces":
		s.namespaces = strings.Split(value, ",")
	case "valid-after":
		s.validAfter, err = parseSignerTime(value)
	case "valid-before":
		s.validBefore, err = parseSignerTime(value)
	case "cert-authority":
		return errors.New("cert-authority is not supported; list the signing keys themselves")
	default:
		return fmt.Errorf("unknown option %q", name)
	}
	return err
}

// parseSignerTime reads YYYYMMDD[HHMM[SS]] with an optional Z; like OpenSSH
// without Z it is local time (the daemon's zone, UTC in a container).
func parseSignerTime(v string) (time.Time, error) {
	loc := time.Local
	if strings.HasSuffix(v, "Z") {
		v, loc = strings.TrimSuffix(v, "Z"), time.UTC
	}
	for _, layout := range []string{"20060102", "200601021504", "20060102150405"} {
		if len(v) == len(layout) {
			return time.ParseInLocation(layout, v, loc)
		}
	}
	return time.Time{}, fmt.Errorf("time %q: expected YYYYMMDD[HHMM[SS]][Z]", v)
}

// allows reports whether the signer may sign in namespace at time when.
func (s *allowedSigner) allows(namespace string, when time.Time) bool {
	if len(s.namespaces) > 0 && !slices.Contains(s.namespaces, namespace) {
		return false
	}
	if !s.validAfter.IsZero() && when.Before(s.validAfter) {
		return false
	}
	return s.validBefore.IsZero() || when.Before(s.validBefore)
}
