package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/spf13/pflag"

	"github.com/tether-ml/tether/source"
)

// sourceFlags are the flags of `tether run` that say how to reach Git, which
// revision to take, and how to trust it.
type sourceFlags struct {
	tag, commit                                   string
	username, passwordFile, caFile                string
	sshKeyFile, sshPassphraseFile, knownHostsFile string
	insecureSkipHostKeyCheck, verifyCommits       bool
	trustedKeysFile, webhookSecretFile            string
}

// registerRef registers the flags that choose the revision besides --branch.
func (s *sourceFlags) registerRef(fs *pflag.FlagSet) {
	fs.StringVar(&s.tag, "tag", "", "track this tag instead of the --branch head (followed when it moves; annotated tags resolve to their commit)")
	fs.StringVar(&s.commit, "commit", "", "deploy this full commit SHA, looked up on --branch: fetched once, never polled")
}

// registerAuth registers the flags that reach the remote and trust what it serves.
func (s *sourceFlags) registerAuth(fs *pflag.FlagSet) {
	fs.StringVar(&s.username, "git-username", "", "HTTPS basic-auth user (default: git when --git-password-file is set)")
	fs.StringVar(&s.passwordFile, "git-password-file", "", "`FILE` holding the HTTPS password or access token; re-read when it changes")
	fs.StringVar(&s.caFile, "git-ca-file", "", "PEM CA bundle `FILE` trusted for the HTTPS remote, besides the system roots")
	fs.StringVar(&s.sshKeyFile, "git-ssh-key-file", "", "`FILE` holding the SSH private key (OpenSSH or PEM); the user comes from the URL (default git)")
	fs.StringVar(&s.sshPassphraseFile, "git-ssh-passphrase-file", "", "`FILE` holding the passphrase of an encrypted --git-ssh-key-file")
	fs.StringVar(&s.knownHostsFile, "git-known-hosts-file", "", "known_hosts `FILE` the SSH host key must match (required for SSH)")
	fs.BoolVar(&s.insecureSkipHostKeyCheck, "git-insecure-skip-host-key-check", false, "accept any SSH host key (insecure: anyone on the path can serve manifests; logged as a warning)")
	fs.BoolVar(&s.verifyCommits, "verify-commits", false, "apply only heads signed by a key in --trusted-keys-file; an unsigned or untrusted head is refused")
	fs.StringVar(&s.trustedKeysFile, "trusted-keys-file", "", "`FILE` of armored OpenPGP public keys and/or SSH allowed_signers lines, for --verify-commits")
	setGroup(fs, groupGit, "git-username", "git-password-file", "git-ca-file", "git-ssh-key-file", "git-ssh-passphrase-file",
		"git-known-hosts-file", "git-insecure-skip-host-key-check", "verify-commits", "trusted-keys-file")
}

// auth is where the credentials are, for every clone of the repository.
func (s *sourceFlags) auth() source.Auth {
	return source.Auth{
		Username: s.username, PasswordFile: s.passwordFile, CAFile: s.caFile,
		SSHKeyFile: s.sshKeyFile, SSHPassphraseFile: s.sshPassphraseFile, KnownHostsFile: s.knownHostsFile,
		InsecureSkipHostKeyCheck: s.insecureSkipHostKeyCheck,
	}
}

// newSource builds the Git source of `tether run`.
func newSource(f *runFlags, workDir string, log *slog.Logger) (*source.Repo, error) {
	s := &f.git
	repo, err := source.New(source.Options{
		URL: f.repo, Branch: f.branch, Tag: s.tag, Commit: s.commit, Path: f.path, WorkDir: workDir,
		Auth: s.auth(), VerifyCommits: s.verifyCommits, TrustedKeysFile: s.trustedKeysFile,
	})
	if err != nil {
		return nil, usagef("run: %v", err)
	}
	if s.insecureSkipHostKeyCheck {
		log.Warn("SSH HOST KEY CHECKING DISABLED: any server on the path can serve manifests that tether will apply; pass --git-known-hosts-file instead of --git-insecure-skip-host-key-check",
			"repo", repo.URL())
	}
	if s.trustedKeysFile != "" && !s.verifyCommits {
		log.Warn("--trusted-keys-file has no effect without --verify-commits")
	}
	return repo, nil
}

// newWebhook is the POST /hooks/git handler waking the loop, or nil when no
// --webhook-secret-file was given (the path then answers 404). Every
// accepted delivery, whatever its ref, also calls wakeAny (the previews:
// a push to a pull request's branch moves its refs/pull/*/head).
func newWebhook(f *runFlags, repo *source.Repo, wake, wakeAny func(), log *slog.Logger) (http.Handler, error) {
	if f.git.webhookSecretFile == "" {
		return nil, nil
	}
	h, err := source.NewWebhook(source.WebhookOptions{
		SecretFile: f.git.webhookSecretFile,
		Ref:        repo.Ref(),
		Wake:       wake,
		Observe: func(d source.Delivery) {
			logDelivery(log, d)
			if d.Status < http.StatusMultipleChoices {
				wakeAny()
			}
		},
	})
	if err != nil {
		return nil, usagef("run: --webhook-secret-file: %v", err)
	}
	return h, nil
}

func logDelivery(log *slog.Logger, d source.Delivery) {
	level := slog.LevelInfo
	if d.Status >= http.StatusBadRequest {
		level = slog.LevelWarn
	}
	log.Log(context.Background(), level, "webhook", "provider", d.Provider, "event", d.Event, "ref", d.Ref, "status", d.Status, "outcome", d.Outcome)
}

// parseInterval reads --interval: a duration, @every <duration> or a cron
// spec. The loop polls at the schedule's times; the period (for a cron spec,
// the gap between its next two firings) caps the fetch backoff.
func parseInterval(s string) (source.Schedule, time.Duration, error) {
	sched, err := source.ParseSchedule(s)
	if err != nil {
		return nil, 0, usagef("run: --interval: %v", err)
	}
	return sched, source.Period(sched, time.Now()), nil
}
