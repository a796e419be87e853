package source_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

const password = "s3cret-token-Zq9"

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// rotate replaces a mounted file the way the kubelet does: a new file
// renamed over the old one.
func rotate(t *testing.T, name, content string) {
	t.Helper()
	tmp := writeFile(t, name+".new", content)
	if err := os.Rename(tmp, name); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPBasicAuth(t *testing.T) {
	remote := gitrepo.New(t)
	head := remote.Commit(map[string]string{"x": "1"})
	server := gitrepo.ServeWith(t, remote.Dir, gitrepo.ServeOptions{Username: "tether", Password: password})
	dir := t.TempDir()
	pwFile := writeFile(t, filepath.Join(dir, "password"), "wrong-password\n")
	repo := newRepo(t, source.Options{URL: server.URL, Auth: source.Auth{Username: "tether", PasswordFile: pwFile}})

	err := syncErr(t, repo, source.ErrAuth, "")
	rotate(t, pwFile, password+"\n") // a rotated Secret applies on the next Sync
	mustSync(t, repo, head, true)

	remote.Commit(map[string]string{"x": "2"})
	rotate(t, pwFile, "wrong-again")
	err2 := syncErr(t, repo, source.ErrAuth, head)
	noSecret(t, err.Error()+err2.Error(), "wrong-password", "wrong-again")

	t.Run("no credentials", func(t *testing.T) {
		syncErr(t, newRepo(t, source.Options{URL: server.URL}), source.ErrAuth, "")
	})
	t.Run("unreadable password file", func(t *testing.T) {
		auth := source.Auth{PasswordFile: filepath.Join(dir, "missing")}
		syncErr(t, newRepo(t, source.Options{URL: server.URL, Auth: auth}), source.ErrAuth, "")
	})
	t.Run("password in the URL is redacted", func(t *testing.T) {
		withPassword := strings.Replace(server.URL, "http://", "http://tether:"+password+"@", 1)
		server.Down.Store(true)
		defer server.Down.Store(false)
		err := syncErr(t, newRepo(t, source.Options{URL: withPassword}), source.ErrUnreachable, "")
		noSecret(t, err.Error(), password)
	})
}

func noSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("secret %q leaked into %q", s, text)
		}
	}
}

func TestCustomCA(t *testing.T) {
	remote := gitrepo.New(t)
	head := remote.Commit(map[string]string{"x": "1"})
	server := gitrepo.ServeWith(t, remote.Dir, gitrepo.ServeOptions{TLS: true})
	syncErr(t, newRepo(t, source.Options{URL: server.URL}), source.ErrUntrustedServer, "")
	ca := writeFile(t, filepath.Join(t.TempDir(), "ca.pem"), string(server.CA))
	mustSync(t, newRepo(t, source.Options{URL: server.URL, Auth: source.Auth{CAFile: ca}}), head, true)
}

func TestSSH(t *testing.T) {
	remote := gitrepo.New(t)
	head := remote.Commit(map[string]string{"x": "1"})
	client, stranger := gitrepo.NewSSHKey(t), gitrepo.NewSSHKey(t)
	server := gitrepo.ServeSSH(t, remote.Dir, client.Public)
	dir := t.TempDir()
	key := client.WriteFile(t, dir, "")
	known := writeFile(t, filepath.Join(dir, "known_hosts"), server.KnownHosts+"\n")
	host := strings.Fields(server.KnownHosts)[0]
	impostor := writeFile(t, filepath.Join(dir, "impostor"), host+" "+string(ssh.MarshalAuthorizedKey(stranger.Public)))
	empty := writeFile(t, filepath.Join(dir, "empty"), "")
	encDir := filepath.Join(dir, "enc")
	encKey := client.WriteFile(t, mkdir(t, encDir), "correct horse")
	passFile := writeFile(t, filepath.Join(dir, "passphrase"), "correct horse\n")

	tests := []struct {
		name string
		auth source.Auth
		kind error // nil: the sync succeeds
	}{
		{"right key and host key", source.Auth{SSHKeyFile: key, KnownHostsFile: known}, nil},
		{"encrypted key with passphrase", source.Auth{SSHKeyFile: encKey, SSHPassphraseFile: passFile, KnownHostsFile: known}, nil},
		{"encrypted key without passphrase", source.Auth{SSHKeyFile: encKey, KnownHostsFile: known}, source.ErrAuth},
		{"wrong host key", source.Auth{SSHKeyFile: key, KnownHostsFile: impostor}, source.ErrUntrustedServer},
		{"unknown host", source.Auth{SSHKeyFile: key, KnownHostsFile: empty}, source.ErrUntrustedServer},
		{"unauthorised client key", source.Auth{SSHKeyFile: stranger.WriteFile(t, mkdir(t, filepath.Join(dir, "s")), ""), KnownHostsFile: known}, source.ErrAuth},
		{"insecure skip accepts any host key", source.Auth{SSHKeyFile: key, KnownHostsFile: impostor, InsecureSkipHostKeyCheck: true}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			repo := newRepo(t, source.Options{URL: server.URL, Auth: tt.auth})
			if tt.kind == nil {
				assertFile(t, mustSync(t, repo, head, true).Dir, "x", "1")
			} else {
				err := syncErr(t, repo, tt.kind, "")
				noSecret(t, err.Error(), "correct horse")
				t.Log(err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestNewRejectsInconsistentOptions(t *testing.T) {
	tests := []struct {
		name string
		opts source.Options
		want string
	}{
		{"ssh without known hosts", source.Options{URL: "ssh://git@example.com/m.git", Auth: source.Auth{SSHKeyFile: "k"}}, "known hosts"},
		{"ssh without key", source.Options{URL: "git@example.com:m.git", Auth: source.Auth{KnownHostsFile: "k"}}, "private key"},
		{"ssh with a password", source.Options{URL: "ssh://git@example.com/m.git", Auth: source.Auth{SSHKeyFile: "k", KnownHostsFile: "k", PasswordFile: "p"}}, "HTTPS credentials"},
		{"https with an ssh key", source.Options{URL: "https://example.com/m.git", Auth: source.Auth{SSHKeyFile: "k"}}, "SSH credentials"},
		{"username without password", source.Options{URL: "https://example.com/m.git", Auth: source.Auth{Username: "u"}}, "password file"},
		{"tag and commit", source.Options{URL: "https://example.com/m.git", Tag: "v1", Commit: strings.Repeat("a", 40)}, "mutually exclusive"},
		{"short commit", source.Options{URL: "https://example.com/m.git", Commit: "abc123"}, "40-digit"},
		{"verify without keys", source.Options{URL: "https://example.com/m.git", VerifyCommits: true}, "trusted keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.WorkDir = t.TempDir()
			if _, err := source.New(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
