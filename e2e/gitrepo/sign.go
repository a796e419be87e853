package gitrepo

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// GPGKey is a throwaway OpenPGP signing key in its own GNUPGHOME.
type GPGKey struct {
	Home        string
	Fingerprint string
	Public      string // ASCII-armored public key
}

// NewGPGKey generates an ed25519 signing key without a passphrase. The agent
// it starts is stopped when the test ends.
func NewGPGKey(t testing.TB, email string) *GPGKey {
	t.Helper()
	// GnuPG puts the agent's socket in GNUPGHOME; keep the path short (sun_path).
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	k := &GPGKey{Home: home}
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
		os.RemoveAll(home)
	})
	k.gpg(t, "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "tether test <"+email+">", "ed25519", "sign", "never")
	for _, line := range strings.Split(k.gpg(t, "--with-colons", "--list-keys", email), "\n") {
		if f := strings.Split(line, ":"); f[0] == "fpr" && k.Fingerprint == "" {
			k.Fingerprint = f[9]
		}
	}
	k.Public = k.gpg(t, "--armor", "--export", k.Fingerprint)
	return k
}

func (k *GPGKey) gpg(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command("gpg", append([]string{"--batch", "--homedir", k.Home}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg %v: %v", args, err)
	}
	return string(out)
}

// SignWithGPG signs every later commit with k.
func (r *Repo) SignWithGPG(k *GPGKey) {
	r.t.Helper()
	r.env = append(r.env, "GNUPGHOME="+k.Home)
	r.Git("config", "gpg.format", "openpgp")
	r.Git("config", "user.signingkey", k.Fingerprint)
	r.Git("config", "commit.gpgsign", "true")
}

// SignWithSSH signs every later commit with the private key in keyFile
// (ssh-keygen -Y sign through git's gpg.format=ssh).
func (r *Repo) SignWithSSH(keyFile string) {
	r.t.Helper()
	r.Git("config", "gpg.format", "ssh")
	r.Git("config", "user.signingkey", keyFile)
	r.Git("config", "commit.gpgsign", "true")
}

// StopSigning makes later commits unsigned.
func (r *Repo) StopSigning() {
	r.t.Helper()
	r.Git("config", "commit.gpgsign", "false")
}
