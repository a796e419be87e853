package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"
)

const (
	pgpSigBegin = "-----BEGIN PGP SIGNATURE-----"
	pgpKeyBegin = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	pgpKeyEnd   = "-----END PGP PUBLIC KEY BLOCK-----"
)

// accept checks the commit of repo about to be checked out: its signature
// when verifying, and that Options.Path exists in it.
func (e *endpoint) accept(repo *git.Repository, head plumbing.Hash) error {
	commit, err := repo.CommitObject(head)
	if err != nil {
		return err
	}
	if e.trust != nil {
		if reason := e.trust.verify(commit); reason != "" {
			return &VerificationError{Revision: head.String(), Reason: reason}
		}
	}
	if e.path == "" {
		return nil
	}
	tree, err := commit.Tree()
	if err != nil {
		return err
	}
	if _, err := tree.Tree(e.path); err != nil {
		if link := symlinkEntry(tree, e.path); link != "" {
			return notFound("path %q: %q is a symlink in %s; the path must name real folders (symlinks are not followed)", e.path, link, head)
		}
		return notFound("path %q not found in %s", e.path, head)
	}
	return nil
}

// symlinkEntry returns the first element of slash path p that tree holds as a
// symlink, or "".
func symlinkEntry(tree *object.Tree, p string) string {
	prefix := ""
	for elem := range strings.SplitSeq(p, "/") {
		prefix = path.Join(prefix, elem)
		e, err := tree.FindEntry(prefix)
		if err != nil {
			return ""
		}
		if e.Mode == filemode.Symlink {
			return prefix
		}
	}
	return ""
}

// trustedKeys is the trusted keys file, parsed again whenever it changes:
// armored OpenPGP public key blocks and, outside them, allowed_signers lines.
type trustedKeys struct {
	file   *watchedFile
	pgp    openpgp.EntityList
	ssh    []allowedSigner
	loaded bool
}

func (t *trustedKeys) load() error {
	data, changed, err := t.file.read()
	if err != nil {
		return err
	}
	if t.loaded && !changed {
		return nil
	}
	t.pgp, t.ssh, t.loaded = nil, nil, false
	rest := string(data)
	for {
		start := strings.Index(rest, pgpKeyBegin)
		end := strings.Index(rest, pgpKeyEnd)
		if start < 0 || end < start {
			break
		}
		block := rest[start : end+len(pgpKeyEnd)]
		keys, err := openpgp.ReadArmoredKeyRing(strings.NewReader(block))
		if err != nil {
			return fmt.Errorf("OpenPGP key block: %w", err)
		}
		t.pgp = append(t.pgp, keys...)
		rest = rest[:start] + rest[end+len(pgpKeyEnd):]
	}
	if t.ssh, err = parseAllowedSigners([]byte(rest)); err != nil {
		return err
	}
	if len(t.pgp) == 0 && len(t.ssh) == 0 {
		return errors.New("no keys in the trusted keys file")
	}
	t.loaded = true
	return nil
}

// verify returns why the commit is not trusted, or "" when it is.
func (t *trustedKeys) verify(c *object.Commit) string {
	if err := t.load(); err != nil {
		return "trusted keys: " + err.Error()
	}
	payload, err := unsignedPayload(c)
	if err != nil {
		return err.Error()
	}
	sig := strings.TrimSpace(c.PGPSignature)
	switch {
	case sig == "":
		return "unsigned"
	case strings.HasPrefix(sig, pgpSigBegin):
		return t.verifyPGP(payload, sig)
	case strings.HasPrefix(sig, sshSigBegin):
		return t.verifySSH(payload, sig, c)
	}
	return "unsupported signature format (only OpenPGP and SSH signatures are verified)"
}

// unsignedPayload is what the signer signed: the commit without its signature.
func unsignedPayload(c *object.Commit) ([]byte, error) {
	obj := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(obj); err != nil {
		return nil, err
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

func (t *trustedKeys) verifyPGP(payload []byte, sig string) string {
	if strings.Count(sig, pgpSigBegin) > 1 {
		return "more than one OpenPGP signature"
	}
	_, err := openpgp.CheckArmoredDetachedSignature(t.pgp, bytes.NewReader(payload), strings.NewReader(sig), nil)
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return "signed by untrusted OpenPGP key " + pgpIssuer(sig)
	case err != nil:
		return "bad OpenPGP signature: " + err.Error()
	}
	return ""
}

// pgpIssuer names the key that made an OpenPGP signature, for messages.
func pgpIssuer(sig string) string {
	block, err := armor.Decode(strings.NewReader(sig))
	if err != nil {
		return "(unreadable signature)"
	}
	p, err := packet.Read(block.Body)
	s, ok := p.(*packet.Signature)
	switch {
	case err != nil && err != io.EOF, !ok:
		return "(unreadable signature)"
	case len(s.IssuerFingerprint) > 0:
		return fmt.Sprintf("%X", s.IssuerFingerprint)
	case s.IssuerKeyId != nil:
		return fmt.Sprintf("%016X", *s.IssuerKeyId)
	}
	return "(unknown issuer)"
}

// verifySSH accepts a signature by a key in allowed_signers, as
// `git verify-commit` does with gpg.ssh.allowedSignersFile: the key and its
// namespaces and validity at the commit time count, not the committer email.
func (t *trustedKeys) verifySSH(payload []byte, armored string, c *object.Commit) string {
	sig, err := parseSSHSignature(armored)
	if err != nil {
		return err.Error()
	}
	fp := ssh.FingerprintSHA256(sig.key)
	trusted := false
	for i := range t.ssh {
		s := &t.ssh[i]
		if bytes.Equal(s.key.Marshal(), sig.key.Marshal()) && s.allows(gitNamespace, c.Committer.When) {
			trusted = true
			break
		}
	}
	if !trusted {
		return "signed by untrusted SSH key " + fp
	}
	if err := sig.verify(payload, gitNamespace); err != nil {
		return "bad SSH signature by " + fp + ": " + err.Error()
	}
	return ""
}
