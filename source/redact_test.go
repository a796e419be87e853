package source_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

// A token the way GitHub issues them; 4+ bytes, so it is scrubbed anywhere.
const urlToken = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"

// TestURLCredentialsNeverShown: credentials written into --repo, as a user
// name (a token: https://<token>@host/...) or as user:password, work, and
// appear in no URL, error or file on disk (issue 11).
func TestURLCredentialsNeverShown(t *testing.T) {
	remote := gitrepo.New(t)
	head := remote.Commit(map[string]string{"x": "1"})
	tests := []struct {
		name       string
		user, pass string   // what the server requires
		userinfo   string   // what the URL carries
		secrets    []string // what must never show, as given and as the URL spells it
	}{
		{"token as user name", urlToken, "", urlToken, []string{urlToken}},
		{"user and password", "tether", "s3cret-pa55", "tether:s3cret-pa55", []string{"s3cret-pa55"}},
		{"escaped password", "tether", "p@ss/w%rd", "tether:p%40ss%2Fw%25rd", []string{"p@ss/w%rd", "p%40ss%2Fw%25rd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := gitrepo.ServeWith(t, remote.Dir, gitrepo.ServeOptions{Username: tt.user, Password: tt.pass})
			withCreds := strings.Replace(server.URL, "http://", "http://"+tt.userinfo+"@", 1)
			workDir := t.TempDir()
			repo := newRepo(t, source.Options{URL: withCreds, WorkDir: workDir})
			noSecret(t, repo.URL(), tt.secrets...)
			mustSync(t, repo, head, true)
			noSecretOnDisk(t, workDir, tt.secrets...)

			server.Down.Store(true) // unreachable: go-git's error names the URL
			next := remote.Commit(map[string]string{"x": "2"})
			err := syncErr(t, repo, source.ErrUnreachable, head)
			noSecret(t, err.Error(), tt.secrets...)
			server.Down.Store(false)
			mustSync(t, repo, next, true)
			noSecretOnDisk(t, workDir, tt.secrets...)

			wrong := strings.Replace(server.URL, "http://", "http://"+tt.userinfo+"x@", 1)
			err = syncErr(t, newRepo(t, source.Options{URL: wrong}), source.ErrAuth, "")
			noSecret(t, err.Error(), tt.secrets...)
			remote.Git("reset", "-q", "--hard", head)
		})
	}
}

// noSecretOnDisk checks every file under dir (the clone's config above all).
func noSecretOnDisk(t *testing.T, dir string, secrets ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		for _, s := range secrets {
			if strings.Contains(string(data), s) {
				t.Errorf("%s holds the credential %q", p, s)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUnparsableURLsRedacted: a URL that does not parse still hides whatever
// stands where its credentials would be, in Redact and in New's error.
func TestUnparsableURLsRedacted(t *testing.T) {
	tests := []struct {
		url, secret, want string
	}{
		{"https://tok en@git.example.com/ml/models.git", "tok en", "https://***@git.example.com/ml/models.git"},
		{"https://user:p%ZZ@git.example.com/ml/models.git", "p%ZZ", "https://***@git.example.com/ml/models.git"},
		{"https://user:pa/ss@git.example.com/ml/models.git", "pa/ss", "https://***@git.example.com/ml/models.git"},
		{"https://" + urlToken + "@git.example.com:bad-port/ml/models.git", urlToken, "https://***@git.example.com:bad-port/ml/models.git"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := source.Redact(tt.url); got != tt.want {
				t.Errorf("Redact = %q, want %q", got, tt.want)
			}
			_, err := source.New(source.Options{URL: tt.url, WorkDir: t.TempDir()})
			if err == nil {
				t.Fatal("an unparsable URL was accepted")
			}
			noSecret(t, err.Error(), tt.secret)
		})
	}
}
