package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Limits on what one kustomize build may read from the repository.
const (
	maxTreeFileBytes = 8 << 20   // per file
	maxTreeBytes     = 64 << 20  // per build
	maxAllTreesBytes = 128 << 20 // all trees held at once, across parallel renders (see treeBudget)
	maxTreeDepth     = 32        // nested directories, which also bounds symlink loops
)

// tree is an in-memory copy of the parts of a repository one kustomize build
// may read: the unit's folder and the components it declares, at their
// repository paths under "/". kustomize runs on the copy, so it never writes
// to the checkout and cannot read anything that was not copied. Its bytes
// come out of treeBudget: call release when done with it.
type tree struct {
	repo    string // repository root, symlinks resolved
	fs      filesys.FileSystem
	copied  map[string]bool  // folders copied, relative slash paths
	skipped map[string]int64 // files too large to copy, with their size
	checked map[string]bool  // files checked for YAML aliases (see aliases.go)
	data    map[string]bool  // generator sources: kustomize reads them as data, not YAML
	bytes   int64            // of the files copied
	budget  *budget
	held    int64 // bytes of budget held: the per-tree limit until complete, then bytes
}

func newTree(dir string) (*tree, error) {
	repo, err := filepath.EvalSymlinks(dir)
	if err == nil {
		repo, err = filepath.Abs(repo)
	}
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", dir, err)
	}
	t := &tree{repo: repo, fs: filesys.MakeFsInMemory(), copied: map[string]bool{}, skipped: map[string]int64{},
		checked: map[string]bool{}, data: map[string]bool{}, budget: treeBudget}
	t.held = t.budget.reserve()
	return t, nil
}

// complete gives back the budget a finished copy does not use.
func (t *tree) complete() {
	t.budget.release(t.held - t.bytes)
	t.held = t.bytes
}

// release gives back all of the tree's budget.
func (t *tree) release() {
	t.budget.release(t.held)
	t.held = 0
}

// kustomizeFS is the tree as kustomize builds it: files are checked for YAML
// aliases as kustomize reads them (see guardedFS).
func (t *tree) kustomizeFS() filesys.FileSystem { return guardedFS{FileSystem: t.fs, t: t} }

// memPath is where a repository-relative slash path lives in the tree.
func memPath(rel string) string { return "/" + rel }

// copyDir copies folder rel of the repository, recursively, into the tree.
// Symlinks are followed only while they stay inside rel: kustomize's own
// root-only load restriction draws the same line.
func (t *tree) copyDir(rel string) error {
	if t.copied[rel] {
		return nil
	}
	t.copied[rel] = true
	disk, err := t.resolve(rel, filepath.Join(t.repo, filepath.FromSlash(rel)), "")
	if err != nil {
		return err
	}
	fi, err := os.Stat(disk)
	if err != nil || !fi.IsDir() {
		return &FieldError{File: rel, Msg: "is not a folder in the repository"}
	}
	return t.copyRec(rel, disk, rel, 0)
}

func (t *tree) copyRec(rel, disk, root string, depth int) error {
	if depth > maxTreeDepth {
		return &FieldError{File: rel, Msg: fmt.Sprintf("folders nest more than %d deep (a symlink loop?)", maxTreeDepth)}
	}
	entries, err := os.ReadDir(disk)
	if err != nil {
		return &FieldError{File: rel, Msg: err.Error()}
	}
	if err := t.fs.MkdirAll(memPath(rel)); err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == ".git" {
			continue
		}
		childRel, childDisk := path.Join(rel, e.Name()), filepath.Join(disk, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			if childDisk, err = t.resolve(childRel, childDisk, root); err != nil {
				return err
			}
		}
		if err := t.copyEntry(childRel, childDisk, root, depth); err != nil {
			return err
		}
	}
	return nil
}

func (t *tree) copyEntry(rel, disk, root string, depth int) error {
	fi, err := os.Stat(disk)
	switch {
	case err != nil:
		return &FieldError{File: rel, Msg: err.Error()}
	case fi.IsDir():
		return t.copyRec(rel, disk, root, depth+1)
	case !fi.Mode().IsRegular():
		return nil // sockets, devices, fifos: nothing kustomize should read
	case fi.Size() > maxTreeFileBytes:
		t.skipped[rel] = fi.Size() // e.g. weights next to the spec; an error only if referenced
		return nil
	case t.bytes+fi.Size() > t.budget.perTree:
		return &FieldError{File: rel, Msg: fmt.Sprintf("the files of this kustomization exceed %d bytes", t.budget.perTree)}
	}
	data, err := os.ReadFile(disk)
	if err != nil {
		return &FieldError{File: rel, Msg: err.Error()}
	}
	t.bytes += int64(len(data))
	return t.fs.WriteFile(memPath(rel), data)
}

// outside lists the folders copied into the tree that are not root or below
// it (the components a kustomization declares), sorted: with root, all the
// repository a build could read.
func (t *tree) outside(root string) []string {
	var out []string
	for p := range t.copied {
		if !within(p, root) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// resolve follows the symlinks in disk and checks that the result stays in the
// repository and, unless root is empty, inside folder root.
func (t *tree) resolve(rel, disk, root string) (string, error) {
	target, err := filepath.EvalSymlinks(disk)
	if errors.Is(err, fs.ErrNotExist) {
		return "", &FieldError{File: rel, Msg: "does not exist (or is a dangling symlink)"}
	}
	if err != nil {
		return "", &FieldError{File: rel, Msg: err.Error()}
	}
	inRepo, err := filepath.Rel(t.repo, target)
	if err != nil || inRepo == ".." || strings.HasPrefix(inRepo, ".."+string(filepath.Separator)) || filepath.IsAbs(inRepo) {
		return "", &FieldError{File: rel, Msg: fmt.Sprintf("symlink to %q leaves the repository", linkText(disk))}
	}
	if root != "" && !within(filepath.ToSlash(inRepo), root) {
		return "", &FieldError{File: rel, Msg: fmt.Sprintf("symlink to %q leaves %s; kustomize may only read inside it", linkText(disk), root)}
	}
	return target, nil
}

// linkText is what a symlink says, for error messages; the resolved host path
// would leak the checkout's location.
func linkText(disk string) string {
	if s, err := os.Readlink(disk); err == nil {
		return s
	}
	return filepath.Base(disk)
}

// within reports whether slash path p is root or below it.
func within(p, root string) bool {
	return p == root || strings.HasPrefix(p, root+"/")
}

// kustomizationIn returns the name of the kustomization file in the tree
// folder rel, or "" when it has none.
func (t *tree) kustomizationIn(rel string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := path.Join(rel, name)
		if t.fs.Exists(memPath(p)) && !t.fs.IsDir(memPath(p)) {
			return p
		}
	}
	return ""
}

// kustomizationOnDisk returns the kustomization file of repository folder rel,
// or "" when it has none.
func kustomizationOnDisk(dir, rel string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := path.Join(rel, name)
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(p))); err == nil {
			return p
		}
	}
	return ""
}
