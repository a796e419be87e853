package gitrepo

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHServer serves one repository over SSH on loopback: public-key auth
// against a fixed set of keys, and only git-upload-pack for that repository.
type SSHServer struct {
	URL        string        // ssh://git@127.0.0.1:<port>/<dir>
	HostKey    ssh.PublicKey // the server's ed25519 host key
	KnownHosts string        // a known_hosts line for the server
	dir        string
	allowed    [][]byte
}

// ServeSSH starts an SSH git server for the repository in dir that admits the
// given client keys; it stops when the test ends.
func ServeSSH(t testing.TB, dir string, allowed ...ssh.PublicKey) *SSHServer {
	t.Helper()
	signer := NewSSHKey(t).Signer
	s := &SSHServer{dir: dir, HostKey: signer.PublicKey()}
	for _, k := range allowed {
		s.allowed = append(s.allowed, k.Marshal())
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: s.checkKey}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s.URL = "ssh://git@" + ln.Addr().String() + dir
	s.KnownHosts = knownhosts.Line([]string{knownhosts.Normalize(ln.Addr().String())}, s.HostKey)
	go s.accept(ln, cfg)
	return s
}

func (s *SSHServer) checkKey(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	for _, k := range s.allowed {
		if bytes.Equal(k, key.Marshal()) {
			return &ssh.Permissions{}, nil
		}
	}
	return nil, errors.New("key not authorized")
}

func (s *SSHServer) accept(ln net.Listener, cfg *ssh.ServerConfig) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go s.serveConn(conn, cfg)
	}
}

func (s *SSHServer) serveConn(conn net.Conn, cfg *ssh.ServerConfig) {
	defer conn.Close()
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, requests, err := nc.Accept()
		if err != nil {
			return
		}
		go s.session(ch, requests)
	}
}

// session runs the one command a git client asks for: git-upload-pack '<dir>'.
func (s *SSHServer) session(ch ssh.Channel, requests <-chan *ssh.Request) {
	defer ch.Close()
	for req := range requests {
		if req.Type != "exec" {
			_ = req.Reply(req.Type == "env", nil)
			continue
		}
		var payload struct{ Command string }
		if ssh.Unmarshal(req.Payload, &payload) != nil || !s.allowedCommand(payload.Command) {
			_ = req.Reply(false, nil)
			return
		}
		_ = req.Reply(true, nil)
		cmd := exec.Command("git-upload-pack", s.dir)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
		status := uint32(0)
		if err := cmd.Run(); err != nil {
			status = 1
		}
		_ = ch.CloseWrite()
		_, _ = ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, status))
		return
	}
}

func (s *SSHServer) allowedCommand(command string) bool {
	name, arg, _ := strings.Cut(command, " ")
	return name == "git-upload-pack" && strings.Trim(arg, `'"`) == s.dir
}

// SSHKey is a throwaway ed25519 key pair.
type SSHKey struct {
	Signer  ssh.Signer
	Public  ssh.PublicKey
	private ed25519.PrivateKey
}

// NewSSHKey generates an ed25519 key.
func NewSSHKey(t testing.TB) *SSHKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return &SSHKey{Signer: signer, Public: signer.PublicKey(), private: priv}
}

// WriteFile writes the private key in OpenSSH format, encrypted when
// passphrase is not empty, and returns the file name.
func (k *SSHKey) WriteFile(t testing.TB, dir, passphrase string) string {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(k.private, "tether-test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(k.private, "tether-test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(name, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// AllowedSigners is an allowed_signers line trusting the key for principal.
func (k *SSHKey) AllowedSigners(principal string) string {
	return principal + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.Public)))
}
