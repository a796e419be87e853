package source_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

// TestVerifyCommits signs heads with gpg and with ssh-keygen (git's
// gpg.format=ssh) and checks that only heads signed by a trusted key are
// checked out, that a refused head keeps the last good revision, and that the
// trusted keys file is re-read when it changes.
func TestVerifyCommits(t *testing.T) {
	dir := t.TempDir()
	trustedGPG, strangerGPG := gitrepo.NewGPGKey(t, "ml@example.com"), gitrepo.NewGPGKey(t, "eve@example.com")
	trustedSSH, strangerSSH := gitrepo.NewSSHKey(t), gitrepo.NewSSHKey(t)
	trustedSSHFile := trustedSSH.WriteFile(t, mkdir(t, filepath.Join(dir, "trusted")), "")
	strangerSSHFile := strangerSSH.WriteFile(t, mkdir(t, filepath.Join(dir, "stranger")), "")
	keys := trustedGPG.Public + "\n# CI bot\n" + trustedSSH.AllowedSigners("ci@example.com") + "\n"
	keysFile := writeFile(t, filepath.Join(dir, "trusted-keys"), keys)

	remote := gitrepo.New(t)
	repo := newRepo(t, source.Options{URL: remote.Dir, VerifyCommits: true, TrustedKeysFile: keysFile})
	steps := []struct {
		name   string
		sign   func()
		refuse string // "" accepted, else part of the refusal
	}{
		{"gpg, trusted", func() { remote.SignWithGPG(trustedGPG) }, ""},
		{"ssh, trusted", func() { remote.SignWithSSH(trustedSSHFile) }, ""},
		{"unsigned", remote.StopSigning, "unsigned"},
		{"gpg, untrusted key", func() { remote.SignWithGPG(strangerGPG) }, "untrusted OpenPGP key " + strangerGPG.Fingerprint},
		{"ssh, untrusted key", func() { remote.SignWithSSH(strangerSSHFile) }, "untrusted SSH key SHA256:"},
	}
	good := ""
	for i, step := range steps {
		step.sign()
		head := remote.Commit(map[string]string{"x": step.name})
		if step.refuse == "" {
			mustSync(t, repo, head, true)
			good = head
			continue
		}
		err := syncErr(t, repo, source.ErrUnverified, good)
		var ve *source.VerificationError
		if !errors.As(err, &ve) || ve.Revision != head || !strings.Contains(ve.Reason, step.refuse) {
			t.Errorf("step %d %s: %v, want a refusal of %s containing %q", i, step.name, err, head, step.refuse)
		}
		syncErr(t, repo, source.ErrUnverified, good) // refused again, not fetched again
	}
	rotate(t, keysFile, keys+strangerSSH.AllowedSigners("eve@example.com")+"\n")
	mustSync(t, repo, remote.Head(), true)
}

func TestTrustedKeysErrors(t *testing.T) {
	remote := gitrepo.New(t)
	remote.Commit(map[string]string{"x": "1"})
	dir := t.TempDir()
	tests := []struct{ name, keys, want string }{
		{"empty", "# nothing\n", "no keys"},
		{"garbage", "ci@example.com not-a-key\n", "allowed signers line 1"},
		{"cert authority", "*@example.com cert-authority " + strings.TrimPrefix(gitrepo.NewSSHKey(t).AllowedSigners(""), " ") + "\n", "cert-authority is not supported"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := writeFile(t, filepath.Join(dir, string(rune('a'+i))), tt.keys)
			repo := newRepo(t, source.Options{URL: remote.Dir, VerifyCommits: true, TrustedKeysFile: keys})
			if err := syncErr(t, repo, source.ErrUnverified, ""); !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
