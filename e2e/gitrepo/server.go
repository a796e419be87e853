package gitrepo

import (
	"crypto/subtle"
	"encoding/pem"
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
	backend := httpBackend(t, dir)
	s := &Server{}
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
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/" + filepath.Base(dir)
	return s
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
func httpBackend(t testing.TB, dir string) *cgi.Handler {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	return &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Dir(dir), "GIT_HTTP_EXPORT_ALL=1"},
	}
}
