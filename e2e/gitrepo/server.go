package gitrepo

import (
	"crypto/subtle"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Server serves one repository over smart HTTP. While Down is set it answers
// every request with 503, as a failing forge would; between Stop and Start
// nothing listens on its port, as when the forge is unreachable.
type Server struct {
	URL      string
	Down     atomic.Bool
	Requests atomic.Int64 // requests served, including rejected ones
	CA       []byte       // PEM certificate to trust when served over TLS

	mu      sync.Mutex
	srv     *httptest.Server // nil while stopped
	addr    string           // host:port, kept across Stop and Start
	tls     bool
	handler http.Handler
}

// ServeOptions protect a served repository.
type ServeOptions struct {
	Username, Password string // non-empty: HTTP basic auth required (401 otherwise)
	TLS                bool   // serve https with a self-signed certificate (see Server.CA)
}

// Serve starts a smart-HTTP server for the repository in dir, stopped when the
// test ends.
func Serve(t testing.TB, dir string) *Server { return ServeWith(t, dir, ServeOptions{}) }

// ServeWith is Serve with basic auth and/or TLS.
func ServeWith(t testing.TB, dir string, opts ServeOptions) *Server {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Open is ServeWith for programs (e2e/bench): it serves until Stop is called.
func Open(dir string, opts ServeOptions) (*Server, error) {
	backend, err := httpBackend(dir)
	if err != nil {
		return nil, err
	}
	s := &Server{}
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Requests.Add(1)
		switch {
		case s.Down.Load():
			http.Error(w, "forge unavailable", http.StatusServiceUnavailable)
		case !opts.authorized(r):
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
		default:
			backend.ServeHTTP(w, r)
		}
	})
	s.tls = opts.TLS
	srv := s.listen(s.handler, nil)
	if opts.TLS {
		s.CA = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	}
	s.URL = srv.URL + "/" + filepath.Base(dir)
	return s, nil
}

// listen starts serving handler on ln, or on a new loopback port when ln is
// nil. httptest serves every TLS server the same certificate, so CA stays
// valid across a restart.
func (s *Server) listen(handler http.Handler, ln net.Listener) *httptest.Server {
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // clients refusing the test certificate are expected
	if ln != nil {
		srv.Listener.Close()
		srv.Listener = ln
	}
	if s.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	s.srv, s.addr = srv, srv.Listener.Addr().String()
	return srv
}

// Stop closes the listener and every connection: until Start, connecting to
// the server is refused. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// Start serves again on the port the server had before Stop. Starting a
// running server does nothing.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("gitrepo: listen again on %s: %w", s.addr, err)
	}
	s.listen(s.handler, ln)
	return nil
}

func (o ServeOptions) authorized(r *http.Request) bool {
	if o.Username == "" && o.Password == "" {
		return true
	}
	user, pass, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(o.Username)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(o.Password)) == 1
}

// httpBackend is git http-backend behind net/http/cgi, exporting dir's parent.
func httpBackend(dir string) (*cgi.Handler, error) {
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return nil, fmt.Errorf("gitrepo: git --exec-path: %w", err)
	}
	return &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Dir(dir), "GIT_HTTP_EXPORT_ALL=1"},
	}, nil
}
