package source

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// Auth names the files holding credentials (mounted Secrets). Each file is
// re-read when it changes, so a rotated Secret applies on the next Sync.
type Auth struct {
	Username     string // HTTPS basic-auth user; default "git" when only a password is given
	PasswordFile string // HTTPS password or access token
	CAFile       string // PEM bundle trusted for HTTPS in addition to the system roots

	SSHKeyFile        string // private key (OpenSSH or PEM)
	SSHPassphraseFile string // passphrase of an encrypted SSHKeyFile
	KnownHostsFile    string // known_hosts the SSH host key must match
	// InsecureSkipHostKeyCheck accepts any SSH host key. Anyone on the path
	// can then serve arbitrary manifests; callers should say so loudly.
	InsecureSkipHostKeyCheck bool
}

// access is what one Sync presents to the remote.
type access struct {
	auth     transport.AuthMethod
	caBundle []byte
	secrets  []string // values to scrub from error messages
}

// credentials turn Auth's files into an access, rebuilding it only when a
// file changed.
type credentials struct {
	user                          string
	urlUser, urlPassword          string // written into an HTTP(S) URL; used without a password file
	fromURL                       bool
	insecure                      bool
	hostPort                      string // SSH: host:port the known hosts are checked for
	password, ca, key, passphrase *watchedFile
	knownHosts                    *watchedFile
	last                          access
	built                         bool
}

func newCredentials(a Auth, rawURL string) (*credentials, error) {
	c := &credentials{
		user: a.Username, insecure: a.InsecureSkipHostKeyCheck,
		password: newWatchedFile(a.PasswordFile), ca: newWatchedFile(a.CAFile),
		key: newWatchedFile(a.SSHKeyFile), passphrase: newWatchedFile(a.SSHPassphraseFile),
		knownHosts: newWatchedFile(a.KnownHostsFile),
	}
	switch {
	case isSSH(rawURL):
		return c, c.checkSSH(a, rawURL)
	case isHTTP(rawURL):
		c.urlUser, c.urlPassword, c.fromURL = urlCredentials(rawURL)
		return c, checkHTTP(a)
	case a != (Auth{}):
		return nil, errors.New("credentials given for a local repository")
	}
	return c, nil
}

func checkHTTP(a Auth) error {
	if a.SSHKeyFile != "" || a.KnownHostsFile != "" || a.SSHPassphraseFile != "" || a.InsecureSkipHostKeyCheck {
		return errors.New("SSH credentials given for an HTTP(S) repository URL")
	}
	if a.Username != "" && a.PasswordFile == "" {
		return errors.New("a username needs a password file")
	}
	return nil
}

func (c *credentials) checkSSH(a Auth, rawURL string) error {
	if a.PasswordFile != "" || a.CAFile != "" || a.Username != "" {
		return errors.New("HTTPS credentials given for an SSH repository URL (the SSH user goes in the URL)")
	}
	if a.SSHKeyFile == "" {
		return errors.New("an SSH repository URL needs a private key file")
	}
	if a.KnownHostsFile == "" && !a.InsecureSkipHostKeyCheck {
		return errors.New("an SSH repository URL needs a known hosts file (or an explicit insecure skip of the host key check)")
	}
	ep, err := transport.NewEndpoint(rawURL)
	if err != nil {
		return fmt.Errorf("parse URL %s: %s", Redact(rawURL), scrubber(rawURL).Replace(err.Error()))
	}
	port := ep.Port
	if port == 0 {
		port = gitssh.DefaultPort
	}
	c.user, c.hostPort = ep.User, net.JoinHostPort(ep.Host, fmt.Sprint(port))
	if c.user == "" {
		c.user = gitssh.DefaultUsername
	}
	return nil
}

// load returns the access for the next Sync.
func (c *credentials) load() (access, error) {
	changed := !c.built
	var data [5][]byte
	for i, f := range []*watchedFile{c.password, c.ca, c.key, c.passphrase, c.knownHosts} {
		d, ch, err := f.read()
		if err != nil {
			return access{}, fmt.Errorf("%w: %w", ErrAuth, err)
		}
		data[i], changed = d, changed || ch
	}
	if !changed {
		return c.last, nil
	}
	acc, err := c.build(data[0], data[1], data[2], data[3])
	if err != nil {
		return access{}, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	c.last, c.built = acc, true
	return acc, nil
}

func (c *credentials) build(password, ca, key, passphrase []byte) (access, error) {
	acc := access{caBundle: ca}
	switch {
	case c.key != nil:
		auth, err := c.sshAuth(key, passphrase)
		if err != nil {
			return access{}, err
		}
		acc.auth = auth
		acc.secrets = []string{strings.TrimSpace(string(passphrase))}
	case c.password != nil:
		pw := strings.TrimSpace(string(password))
		user := c.user
		if user == "" {
			user = "git"
		}
		acc.auth = &githttp.BasicAuth{Username: user, Password: pw}
		acc.secrets = []string{pw}
	case c.fromURL:
		acc.auth = &githttp.BasicAuth{Username: c.urlUser, Password: c.urlPassword}
	}
	return acc, nil
}

func (c *credentials) sshAuth(key, passphrase []byte) (transport.AuthMethod, error) {
	signer, err := parseSSHKey(key, passphrase)
	if err != nil {
		return nil, err
	}
	pk := &gitssh.PublicKeys{User: c.user, Signer: signer}
	if c.insecure {
		pk.HostKeyCallback = ssh.InsecureIgnoreHostKey() //nolint:gosec // explicit opt-in, logged by the caller
		return sshAuth{pk}, nil
	}
	db, err := knownhosts.NewDB(c.knownHosts.path)
	if err != nil {
		return nil, fmt.Errorf("known hosts %s: %w", c.knownHosts.path, err)
	}
	pk.HostKeyCallback = db.HostKeyCallback()
	// Offer only the algorithms known_hosts has a key for, or the server may
	// present another key type and fail the check (go-git leaves this to us
	// once the callback is ours).
	pk.HostKeyAlgorithms = db.HostKeyAlgorithms(c.hostPort)
	return sshAuth{pk}, nil
}

func parseSSHKey(key, passphrase []byte) (ssh.Signer, error) {
	pass := strings.TrimSpace(string(passphrase))
	if pass != "" {
		signer, err := ssh.ParsePrivateKeyWithPassphrase(key, []byte(pass))
		if err != nil {
			return nil, fmt.Errorf("SSH private key: %w", err)
		}
		return signer, nil
	}
	signer, err := ssh.ParsePrivateKey(key)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, errors.New("SSH private key is encrypted and no passphrase file was given")
	}
	if err != nil {
		return nil, fmt.Errorf("SSH private key: %w", err)
	}
	return signer, nil
}

// sshAuth bounds the SSH handshake: go-git's SSH dial ignores the context.
type sshAuth struct{ *gitssh.PublicKeys }

const sshDialTimeout = 30 * time.Second

func (a sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := a.PublicKeys.ClientConfig()
	if cfg != nil {
		cfg.Timeout = sshDialTimeout
	}
	return cfg, err
}
