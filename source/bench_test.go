package source_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/tether-ml/tether/e2e/gitrepo"
	"github.com/tether-ml/tether/source"
)

// modelRepo serves a repository of 1000 small model folders over smart HTTP
// and returns a Repo that has synced it.
func modelRepo(b *testing.B) (*gitrepo.Repo, *gitrepo.Server, *source.Repo) {
	remote := gitrepo.New(b)
	files := map[string]string{}
	for i := range 1000 {
		files[fmt.Sprintf("models/m-%04d/model.yaml", i)] = fmt.Sprintf("spec: %d\n", i)
	}
	head := remote.Commit(files)
	server := gitrepo.Serve(b, remote.Dir)
	repo, err := source.New(source.Options{URL: server.URL, WorkDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	if snap, _, err := repo.Sync(context.Background()); err != nil || snap.Revision != head {
		b.Fatal(snap, err)
	}
	return remote, server, repo
}

// BenchmarkUnchangedPoll is the cost of a poll that finds the head unchanged
// in a 1000-model repository: one ls-remote, no fetch. It includes the test
// server's side (git http-backend, a CGI process per request).
//
//	go test ./source -run '^$' -bench 'Poll|ChangedHead' -benchtime 100x
func BenchmarkUnchangedPoll(b *testing.B) {
	_, server, repo := modelRepo(b)
	before := server.Requests.Load()
	b.ResetTimer()
	for range b.N {
		if _, changed, err := repo.Sync(context.Background()); err != nil || changed {
			b.Fatal(changed, err)
		}
	}
	b.ReportMetric(float64(server.Requests.Load()-before)/float64(b.N), "requests/op")
}

// BenchmarkChangedHead is a Sync that finds one model changed in a
// 1000-model repository: ls-remote, incremental fetch, checkout.
func BenchmarkChangedHead(b *testing.B) {
	remote, _, repo := modelRepo(b)
	for i := range b.N {
		b.StopTimer()
		head := remote.Commit(map[string]string{fmt.Sprintf("models/m-%04d/model.yaml", i%1000): fmt.Sprintf("spec: changed %d\n", i)})
		b.StartTimer()
		if snap, changed, err := repo.Sync(context.Background()); err != nil || !changed || snap.Revision != head {
			b.Fatal(changed, err)
		}
	}
}

// BenchmarkLargeRepository clones a repository with 10,000 commits and 50 MB
// of incompressible files over smart HTTP, then fetches one new commit, and
// reports the process's peak RSS.
//
//	go test ./source -run '^$' -bench LargeRepository -benchtime 1x
func BenchmarkLargeRepository(b *testing.B) {
	remote := gitrepo.New(b)
	fastImport(b, remote.Dir, 10_000, 200, 256<<10)
	remote.Git("reset", "-q", "--hard") // fast-import leaves the index and work tree empty
	server := gitrepo.Serve(b, remote.Dir)
	runtime.GC()
	base := maxRSS()
	for range b.N {
		repo, err := source.New(source.Options{URL: server.URL, WorkDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, _, err := repo.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "clone-s")
		head := remote.Commit(map[string]string{"log/new.txt": time.Now().String()})
		start = time.Now()
		if snap, changed, err := repo.Sync(context.Background()); err != nil || !changed || snap.Revision != head {
			b.Fatal(changed, err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "fetch-s")
	}
	b.ReportMetric(float64(base)/1024, "baseRSS-MiB")
	b.ReportMetric(float64(maxRSS())/1024, "peakRSS-MiB")
}

// maxRSS is the process's peak resident set in KiB.
func maxRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss
}

// fastImport writes commits commits onto main with git fast-import: the first
// adds files random files of size bytes, each later one changes a small file.
func fastImport(b *testing.B, dir string, commits, files, size int) {
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	blob := make([]byte, size)
	for c := 1; c <= commits; c++ {
		fmt.Fprintf(w, "commit refs/heads/main\nmark :%d\ncommitter t <t@example.com> %d +0000\ndata 6\ncommit\n", c, 1700000000+c)
		if c > 1 {
			fmt.Fprintf(w, "from :%d\n", c-1)
		}
		for f := 0; c == 1 && f < files; f++ {
			_, _ = io.ReadFull(rand.Reader, blob)
			fmt.Fprintf(w, "M 100644 inline data/blob-%03d.bin\ndata %d\n", f, size)
			w.Write(blob)
			w.WriteString("\n")
		}
		line := fmt.Sprintf("change %d\n", c)
		fmt.Fprintf(w, "M 100644 inline log/%02d.txt\ndata %d\n%s\n", c%100, len(line), line)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
}
