package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"time"

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

func (s *sourceFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.tag, "tag", "", "track this tag instead of the --branch head")
	fs.StringVar(&s.commit, "commit", "", "pin this full commit SHA (on --branch); nothing is polled")
	fs.StringVar(&s.username, "git-username", "", "HTTPS basic-auth user (default git when only --git-password-file is set)")
	fs.StringVar(&s.passwordFile, "git-password-file", "", "file holding the HTTPS password or access token")
	fs.StringVar(&s.caFile, "git-ca-file", "", "PEM CA bundle trusted for the HTTPS remote, besides the system roots")
	fs.StringVar(&s.sshKeyFile, "git-ssh-key-file", "", "file holding the SSH private key")
	fs.StringVar(&s.sshPassphraseFile, "git-ssh-passphrase-file", "", "file holding the SSH private key's passphrase")
	fs.StringVar(&s.knownHostsFile, "git-known-hosts-file", "", "known_hosts file the SSH host key must match (required for SSH)")
	fs.BoolVar(&s.insecureSkipHostKeyCheck, "git-insecure-skip-host-key-check", false, "accept any SSH host key (insecure: anyone on the path can serve manifests)")
	fs.BoolVar(&s.verifyCommits, "verify-commits", false, "apply only heads signed by a key in --trusted-keys-file")
	fs.StringVar(&s.trustedKeysFile, "trusted-keys-file", "", "armored OpenPGP public keys and/or SSH allowed_signers lines")
	fs.StringVar(&s.webhookSecretFile, "webhook-secret-file", "", "file holding the push webhook secret; enables POST /hooks/git")
}

// newSource builds the Git source of `tether run`.
func newSource(f *runFlags, workDir string, log *slog.Logger) (*source.Repo, error) {
	s := &f.git
	repo, err := source.New(source.Options{
		URL: f.repo, Branch: f.branch, Tag: s.tag, Commit: s.commit, Path: f.path, WorkDir: workDir,
		Auth: source.Auth{
			Username: s.username, PasswordFile: s.passwordFile, CAFile: s.caFile,
			SSHKeyFile: s.sshKeyFile, SSHPassphraseFile: s.sshPassphraseFile, KnownHostsFile: s.knownHostsFile,
			InsecureSkipHostKeyCheck: s.insecureSkipHostKeyCheck,
		},
		VerifyCommits: s.verifyCommits, TrustedKeysFile: s.trustedKeysFile,
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
// --webhook-secret-file was given (the path then answers 404).
func newWebhook(f *runFlags, repo *source.Repo, wake func(), log *slog.Logger) (http.Handler, error) {
	if f.git.webhookSecretFile == "" {
		return nil, nil
	}
	h, err := source.NewWebhook(source.WebhookOptions{
		SecretFile: f.git.webhookSecretFile,
		Ref:        repo.Ref(),
		Wake:       wake,
		Observe:    func(d source.Delivery) { logDelivery(log, d) },
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
