// Package gitrepo makes throwaway Git repositories for tests and serves them
// over Git's smart HTTP protocol (git http-backend behind net/http/cgi), so
// tests fetch from a real server on loopback.
//
// It drives the git command line and is for tests only.
//
//	r := gitrepo.New(t)
//	rev := r.Commit(map[string]string{"models/a/model.yaml": spec})
//	url := gitrepo.Serve(t, r.Dir).URL
package gitrepo
