package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// ModelsDir is the folder of a models repository that holds one folder per model.
const ModelsDir = "models"

// ModelFile is the spec file inside each model folder.
const ModelFile = "model.yaml"

// Options are the daemon-wide settings rendering depends on, from flags.
// Repository merges them with tether.yaml (see Settings.Resolve).
type Options struct {
	DefaultNamespace string // namespace for models that name none
	RequireDigest    bool   // images must be pinned by digest
	DefaultDrift     string // drift mode for models that name none
	DefaultProtect   bool   // protect models that do not set spec.protect
}

// Result is one revision of a models repository, rendered.
type Result struct {
	// Units are the bundles of tether.yaml in the order listed there (they
	// usually hold namespaces and CRDs the models need), then one unit per
	// model folder, sorted by name.
	Units    []Unit
	Settings Settings // from tether.yaml; zero when the file is absent
	// Elsewhere are the model folders of this revision that another shard
	// reconciles; Undecided those whose shard cannot be read (Incremental.ForShard).
	Elsewhere, Undecided []string
}

// Repository renders every bundle and every model of the repository in dir.
// Each unit is rendered in isolation: a broken model yields a Unit with Err
// set and the others are unaffected. The error is for problems with the
// repository as a whole (an invalid tether.yaml, an unreadable models
// folder); then nothing of this revision may be applied or pruned.
func Repository(dir string, flags Options) (*Result, error) {
	return NewIncremental(flags).Render(dir, nil, Hooks{})
}

// renderUnits renders the bundles, then every model folder, of the
// repository in dir with opts (already resolved against tether.yaml).
func renderUnits(dir string, bundles []string, opts Options) ([]Unit, error) {
	folders, err := modelFolders(dir)
	if err != nil {
		return nil, err
	}
	units := make([]Unit, len(bundles)+len(folders))
	parallel(len(units), func(i int) {
		if i < len(bundles) {
			units[i] = LoadBundle(dir, bundles[i], opts)
		} else {
			units[i] = LoadModel(dir, folders[i-len(bundles)], opts)
		}
	})
	objs := make([][]string, len(units))
	for i := range units {
		objs[i] = objectKeys(units[i].Objects)
	}
	rejectDuplicates(units, objs)
	return units, nil
}

// modelFolders lists the entries of dir/models that are (or pretend to be)
// model folders, sorted by name. Plain files are ignored; symlinks are listed
// so that LoadModel can reject them with a clear error.
func modelFolders(dir string) ([]string, error) {
	if firstSymlink(dir, ModelsDir) != "" {
		return nil, Errors{{File: ModelsDir, Msg: "is a symlink; the models folder must be a real directory (symlinks are not followed)"}}
	}
	entries, err := os.ReadDir(filepath.Join(dir, ModelsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ModelsDir, err)
	}
	var folders []string
	for _, e := range entries {
		if e.IsDir() || e.Type()&fs.ModeSymlink != 0 {
			folders = append(folders, e.Name())
		}
	}
	sort.Strings(folders)
	return folders, nil
}

// firstSymlink returns the first element of slash path rel (inside dir) that
// is a symlink, as a path relative to dir; "" when there is none. A missing
// element ends the search.
func firstSymlink(dir, rel string) string {
	p := ""
	for elem := range strings.SplitSeq(rel, "/") {
		p = path.Join(p, elem)
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return ""
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return p
		}
	}
	return ""
}

// parallel runs fn(0..n-1) on up to GOMAXPROCS goroutines. Kustomize builds
// inside fn are serialised (see build); decoding and rendering are not.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// readSpec reads a spec file, refusing symlinks, non-regular files and files
// over maxSpecBytes without reading them whole.
func readSpec(name string) ([]byte, error) {
	fi, err := os.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("is not a regular file (symlinks are not followed)")
	}
	if fi.Size() > maxSpecBytes {
		return nil, fmt.Errorf("file is %d bytes; at most %d bytes are allowed", fi.Size(), maxSpecBytes)
	}
	return os.ReadFile(name)
}

// ObjectsHash is a content hash over rendered objects, used to skip units whose
// content did not change.
func ObjectsHash(objs any) string {
	return shortHash(objs, 16)
}

// mergeErrors adds validation errors to decoding errors, leaving out those about
// a field that already failed to decode (its zero value would only mislead).
func mergeErrors(decoded, validated Errors) Errors {
	failed := map[string]bool{}
	for _, e := range decoded {
		failed[e.Field] = true
	}
	out := decoded
	for _, e := range validated {
		if !failed[e.Field] {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}
