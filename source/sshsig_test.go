package source

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sshSign signs message with a fresh key of the given type via ssh-keygen -Y sign.
func sshSign(t *testing.T, keyType, namespace string, message []byte) (armored, pubLine string) {
	t.Helper()
	dir := t.TempDir()
	key, msg := filepath.Join(dir, "key"), filepath.Join(dir, "msg")
	args := []string{"-q", "-t", keyType, "-N", "", "-f", key}
	if keyType == "rsa" {
		args = append(args, "-b", "2048") // faster to generate than the 3072 default
	}
	if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	if err := os.WriteFile(msg, message, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-Y", "sign", "-f", key, "-n", namespace, msg).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, out)
	}
	sig, err := os.ReadFile(msg + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return string(sig), strings.TrimSpace(string(pub))
}

func TestSSHSignature(t *testing.T) {
	message := []byte("tree 4b825dc642cb6eb9a060e54bf8d69288fbef4904\n\nsigned\n")
	tests := []struct {
		name, keyType, namespace string
		verifyWith               []byte
		wantErr                  string
	}{
		{"ed25519", "ed25519", "git", message, ""},
		{"ecdsa", "ecdsa", "git", message, ""},
		{"rsa (rsa-sha2-512)", "rsa", "git", message, ""},
		{"tampered message", "ed25519", "git", append([]byte("x"), message...), "did not verify"},
		{"other namespace", "ed25519", "file", message, `namespace "file"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			armored, _ := sshSign(t, tt.keyType, tt.namespace, message)
			sig, err := parseSSHSignature(armored)
			if err != nil {
				t.Fatal(err)
			}
			err = sig.verify(tt.verifyWith, gitNamespace)
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("verify = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := parseSSHSignature("-----BEGIN SSH SIGNATURE-----\nbm90IGEgc2ln\n-----END SSH SIGNATURE-----"); err == nil {
		t.Error("a blob without the SSHSIG preamble parsed")
	}
}

func TestAllowedSigners(t *testing.T) {
	_, pub := sshSign(t, "ed25519", "git", []byte("m"))
	commitTime := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, line string
		allowed    bool
		wantErr    string
	}{
		{"plain", "ci@example.com " + pub, true, ""},
		{"quoted principals", `"ci@example.com,ml@example.com" ` + pub, true, ""},
		{"git namespace", `ci@example.com namespaces="file,git" ` + pub, true, ""},
		{"other namespace only", `ci@example.com namespaces="file" ` + pub, false, ""},
		{"valid window", `ci@example.com valid-after="20260101",valid-before="20270101Z" ` + pub, true, ""},
		{"expired", `ci@example.com valid-before="202601011200Z" ` + pub, false, ""},
		{"not yet valid", `ci@example.com valid-after="20260602" ` + pub, false, ""},
		{"bad time", `ci@example.com valid-after="2026" ` + pub, false, "YYYYMMDD"},
		{"unknown option", `ci@example.com no-touch-required ` + pub, false, "unknown option"},
		{"no key", "ci@example.com", false, "expected principals and a public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signers, err := parseAllowedSigners([]byte("# comment\n\n" + tt.line + "\n"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "line 3") {
					t.Fatalf("err = %v, want %q on line 3", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(signers) != 1 {
				t.Fatalf("parse: %v (%d signers)", err, len(signers))
			}
			if got := signers[0].allows(gitNamespace, commitTime); got != tt.allowed {
				t.Errorf("allows = %v, want %v", got, tt.allowed)
			}
		})
	}
}
