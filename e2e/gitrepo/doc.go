// Package gitrepo makes throwaway Git repositories for tests and serves them
// on loopback: over Git's smart HTTP protocol (git http-backend behind
// net/http/cgi, optionally with basic auth and TLS) and over SSH (public-key
// auth, git-upload-pack only). An HTTP server can fail (Down: 503) or go
// away and come back on its port (Stop, Start). It also makes signing keys
// (gpg, ssh) and signed commits.
//
// It drives the git command line and is for tests only.
//
//	r := gitrepo.New(t)
//	rev := r.Commit(map[string]string{"models/a/model.yaml": spec})
//	url := gitrepo.ServeWith(t, r.Dir, gitrepo.ServeOptions{Username: "u", Password: "p"}).URL
package gitrepo
