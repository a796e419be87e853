package source

import (
	"bytes"
	"fmt"
	"os"
	"sync"
)

// watchedFile is a small file that tether re-reads whenever it changes: a
// credential, a CA bundle or a key list mounted from a Kubernetes Secret. A
// Secret update swaps a symlink, so the file is re-read when its identity
// (device and inode), size or modification time differs from the last read.
type watchedFile struct {
	path string

	mu   sync.Mutex
	info os.FileInfo
	data []byte
}

func newWatchedFile(path string) *watchedFile {
	if path == "" {
		return nil
	}
	return &watchedFile{path: path}
}

// read returns the file's content and whether it differs from the previous
// read. A nil watchedFile reads as empty and unchanged.
func (f *watchedFile) read() ([]byte, bool, error) {
	if f == nil {
		return nil, false, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	info, err := os.Stat(f.path)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", f.path, pathErr(err))
	}
	if f.info != nil && os.SameFile(f.info, info) && f.info.Size() == info.Size() && f.info.ModTime().Equal(info.ModTime()) {
		return f.data, false, nil
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", f.path, pathErr(err))
	}
	changed := !bytes.Equal(data, f.data)
	f.info, f.data = info, data
	return data, changed, nil
}

// pathErr drops the path from an *os.PathError: the caller names the file.
func pathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
