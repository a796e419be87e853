package gitrepo

import (
	"crypto/subtle"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// Server serves one repository over smart HTTP. While Down is set it answers
// every request with 503, as an unreachable forge would.
type Server struct {
	URL      string
	Down     atomic.Bool
	Requests atomic.Int64 // requests served, including rejected ones
	CA       []byte       // PEM certificate to trust when served over TLS
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
	s, stop, err := Start(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

// Start is ServeWith for programs (e2e/bench): it serves until stop is called.
func Start(dir string, opts ServeOptions) (s *Server, stop func(), err error) {
	backend, err := httpBackend(dir)
	if err != nil {
		return nil, nil, err
	}
	s = &Server{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // clients refusing the test certificate are expected
	if opts.TLS {
		srv.StartTLS()
		s.CA = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	} else {
		srv.Start()
	}
	s.URL = srv.URL + "/" + filepath.Base(dir)
	return s, srv.Close, nil
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
		return nil, fmt.Errorf("git --exec-path: %w", err)
	}
	return &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Dir(dir), "GIT_HTTP_EXPORT_ALL=1"},
	}, nil
}
