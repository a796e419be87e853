package source

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/ssh"
)

// SSH signatures as git makes them with gpg.format=ssh (ssh-keygen -Y sign),
// per OpenSSH's PROTOCOL.sshsig. Only verification is implemented.
const (
	sshSigMagic   = "SSHSIG"
	sshSigVersion = 1
	sshSigBegin   = "-----BEGIN SSH SIGNATURE-----"
	sshSigEnd     = "-----END SSH SIGNATURE-----"
	gitNamespace  = "git"
)

// sshSignature is a decoded SSH signature blob.
type sshSignature struct {
	key       ssh.PublicKey
	namespace string
	hashAlg   string
	sig       ssh.Signature
}

// sshSigBlob is the wire form after the magic preamble.
type sshSigBlob struct {
	Version       uint32
	PublicKey     []byte
	Namespace     string
	Reserved      string
	HashAlgorithm string
	Signature     []byte
}

// parseSSHSignature decodes an armored SSH signature.
func parseSSHSignature(armored string) (*sshSignature, error) {
	body := strings.TrimSpace(armored)
	if !strings.HasPrefix(body, sshSigBegin) || !strings.HasSuffix(body, sshSigEnd) {
		return nil, errors.New("not an armored SSH signature")
	}
	b64 := strings.Join(strings.Fields(body[len(sshSigBegin):len(body)-len(sshSigEnd)]), "")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("SSH signature armor: %w", err)
	}
	if !bytes.HasPrefix(raw, []byte(sshSigMagic)) {
		return nil, errors.New("SSH signature: missing SSHSIG preamble")
	}
	var blob sshSigBlob
	if err := ssh.Unmarshal(raw[len(sshSigMagic):], &blob); err != nil {
		return nil, fmt.Errorf("SSH signature: %w", err)
	}
	if blob.Version != sshSigVersion {
		return nil, fmt.Errorf("SSH signature: unsupported version %d", blob.Version)
	}
	s := &sshSignature{namespace: blob.Namespace, hashAlg: blob.HashAlgorithm}
	if s.key, err = ssh.ParsePublicKey(blob.PublicKey); err != nil {
		return nil, fmt.Errorf("SSH signature: public key: %w", err)
	}
	if err := ssh.Unmarshal(blob.Signature, &s.sig); err != nil {
		return nil, fmt.Errorf("SSH signature: %w", err)
	}
	return s, nil
}

// verify checks the signature over message in namespace.
func (s *sshSignature) verify(message []byte, namespace string) error {
	if s.namespace != namespace {
		return fmt.Errorf("SSH signature is for namespace %q, want %q", s.namespace, namespace)
	}
	var h hash.Hash
	switch s.hashAlg {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return fmt.Errorf("SSH signature: unsupported hash %q", s.hashAlg)
	}
	if s.sig.Format == ssh.KeyAlgoRSA {
		return errors.New("SSH signature: RSA with SHA-1 is not accepted") // as OpenSSH
	}
	h.Write(message)
	signed := append([]byte(sshSigMagic), ssh.Marshal(struct {
		Namespace, Reserved, HashAlgorithm string
		Hash                               []byte
	}{namespace, "", s.hashAlg, h.Sum(nil)})...)
	return s.key.Verify(signed, &s.sig)
}
