package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
)

// ModelsDir is the folder of a models repository that holds one folder per model.
const ModelsDir = "models"

// ModelFile is the spec file inside each model folder.
const ModelFile = "model.yaml"

// Options are the daemon-wide settings rendering depends on.
type Options struct {
	DefaultNamespace string // namespace for models that name none
	RequireDigest    bool   // images must be pinned by digest
	DefaultDrift     string // drift mode for models that name none
}

// Result is one revision of a models repository, rendered.
type Result struct {
	Units    []Unit   // one per model folder, sorted by name
	Settings Settings // from tether.yaml; zero when the file is absent
}

// Settings are the repository-wide settings of tether.yaml.
type Settings struct {
	AllowMassPrune bool // let this revision prune more than --max-prune
}

// Repository renders every model under dir/models, sorted by name. Each model is
// rendered in isolation: a broken model yields a Unit with Err set and the others
// are unaffected. The error is for problems with the repository as a whole
// (an unreadable models folder); then nothing of this revision may be applied
// or pruned.
func Repository(dir string, opts Options) (*Result, error) {
	entries, err := os.ReadDir(filepath.Join(dir, ModelsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return &Result{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ModelsDir, err)
	}
	res := &Result{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		res.Units = append(res.Units, LoadModel(dir, e.Name(), opts))
	}
	sort.Slice(res.Units, func(i, j int) bool { return res.Units[i].Name < res.Units[j].Name })
	return res, nil
}

// LoadModel renders the model in dir/models/<folder>.
func LoadModel(dir, folder string, opts Options) Unit {
	source := path.Join(ModelsDir, folder)
	file := path.Join(source, ModelFile)
	u := Unit{Name: folder, Namespace: opts.DefaultNamespace, Source: source}
	data, err := readSpec(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		u.Err = Errors{{File: file, Msg: err.Error()}}
		return u
	}
	m, root, decodeErrs := decodeModel(file, data)
	if m == nil {
		u.Err = decodeErrs
		return u
	}
	errs, warnings := validate(file, folder, root, m, opts)
	u.Warnings = warnings
	if errs = mergeErrors(decodeErrs, errs); errs != nil {
		u.Err = errs
		return u
	}
	applyDefaults(m, folder, opts)
	u.Namespace, u.Drift, u.Suspend = m.Metadata.Namespace, m.Spec.Drift, m.Spec.Suspend
	u.Objects, u.Err = renderModel(m, source)
	u.Hash = ObjectsHash(u.Objects)
	return u
}

func applyDefaults(m *Model, folder string, opts Options) {
	if m.Metadata.Name == "" {
		m.Metadata.Name = folder
	}
	if m.Metadata.Namespace == "" {
		m.Metadata.Namespace = opts.DefaultNamespace
	}
	if m.Spec.Drift == "" {
		m.Spec.Drift = opts.DefaultDrift
	}
}

// readSpec reads a spec file, refusing symlinks, non-regular files and files
// over maxSpecBytes without reading them whole.
func readSpec(name string) ([]byte, error) {
	fi, err := os.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("missing; every model folder needs a %s", ModelFile)
	}
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
