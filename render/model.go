package render

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
)

// LoadModel renders the model in dir/models/<folder> with opts (already
// resolved against tether.yaml). When the folder holds a kustomization, the
// rendered objects are built through it (see overlay.go).
func LoadModel(dir, folder string, opts Options) Unit {
	u, _ := loadModel(dir, folder, opts)
	return u
}

// loadModel is LoadModel, also returning the folders outside the model's own
// that its render read (the components its overlay declares), sorted.
func loadModel(dir, folder string, opts Options) (u Unit, deps []string) {
	source := path.Join(ModelsDir, folder)
	file := path.Join(source, ModelFile)
	u = Unit{Name: folder, Kind: KindModelUnit, Namespace: opts.DefaultNamespace, Source: source}
	defer recoverUnit(&u)
	if firstSymlink(dir, source) != "" {
		u.Err = Errors{{File: source, Msg: "is a symlink; model folders must be real directories"}}
		return u, nil
	}
	data, err := readSpec(filepath.Join(dir, filepath.FromSlash(file)))
	if errors.Is(err, fs.ErrNotExist) {
		err = fmt.Errorf("missing; every model folder needs a %s", ModelFile)
	}
	if err != nil {
		u.Err = Errors{{File: file, Msg: err.Error()}}
		return u, nil
	}
	m, root, decodeErrs := decodeModel(file, data)
	if m == nil {
		u.Err = decodeErrs
		return u, nil
	}
	errs, warnings := validate(file, folder, root, m, opts)
	u.Warnings = warnings
	if errs = mergeErrors(decodeErrs, errs); len(errs) > 0 {
		u.Err = errs
		return u, nil
	}
	applyDefaults(m, folder, opts)
	delete(m.Metadata.Labels, LabelShard) // routing, not content (see LabelShard)
	u.Namespace, u.Drift, u.Suspend = m.Metadata.Namespace, m.Spec.Drift, m.Spec.Suspend
	objs, err := renderModel(m, source)
	if err == nil {
		objs, deps, err = overlay(dir, source, m, objs, &u.Warnings)
	}
	if err != nil {
		u.Err = err
		return u, nil
	}
	stampModelObjects(objs, m)
	u.Objects, u.Hash = objs, ObjectsHash(objs)
	return u, deps
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
	if m.Spec.Protect == nil {
		m.Spec.Protect = &opts.DefaultProtect
	}
}

// recoverUnit turns a panic while rendering one unit into that unit's error,
// so one bad input never stops the others (or the daemon).
func recoverUnit(u *Unit) {
	if r := recover(); r != nil {
		u.Objects, u.Hash = nil, ""
		u.Err = fmt.Errorf("%s: internal error while rendering: %v", u.Source, r)
	}
}
