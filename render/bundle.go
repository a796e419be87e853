package render

import (
	"fmt"
	"path"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// LoadBundle renders a bundle listed in tether.yaml: a plain kustomization in
// repository folder bundlePath, built with the same restrictions as model
// overlays. Every object is labelled managed-by tether and annotated with its
// source, so the daemon watches and prunes it like a model's.
func LoadBundle(dir, bundlePath string, opts Options) Unit {
	u, _ := loadBundle(dir, bundlePath, opts)
	return u
}

// loadBundle is LoadBundle, also returning the folders outside the bundle's
// own that its build read (the components it declares), sorted.
func loadBundle(dir, bundlePath string, opts Options) (u Unit, deps []string) {
	u = Unit{Name: path.Base(bundlePath), Kind: KindBundleUnit, Namespace: opts.DefaultNamespace, Source: bundlePath, Drift: opts.DefaultDrift}
	defer recoverUnit(&u)
	objs, warnings, deps, err := buildBundle(dir, bundlePath, opts.DefaultNamespace)
	u.Warnings = warnings
	if err != nil {
		u.Err = err
		return u, nil
	}
	u.Objects, u.Hash = objs, ObjectsHash(objs)
	return u, deps
}

func buildBundle(dir, bundlePath, namespace string) (objs []*unstructured.Unstructured, warnings, deps []string, err error) {
	if link := firstSymlink(dir, bundlePath); link != "" {
		return nil, nil, nil, Errors{{File: bundlePath, Msg: fmt.Sprintf("%q is a symlink; a bundle's folder and the folders above it must be real directories (symlinks are not followed)", link)}}
	}
	t, err := newTree(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	defer t.release()
	if err := t.copyDir(bundlePath); err != nil {
		return nil, nil, nil, Errors{asFieldError(err, bundlePath)}
	}
	s := newScanner(t)
	s.scan(bundlePath, bundlePath)
	t.complete()
	if len(s.errs) > 0 {
		return nil, s.warnings, nil, s.errs
	}
	objs, err = build(t.kustomizeFS(), memPath(bundlePath), namespace, s.deprecated)
	if err != nil {
		return nil, s.warnings, nil, Errors{{File: t.kustomizationIn(bundlePath), Msg: err.Error()}}
	}
	for _, o := range objs {
		labels := o.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelManagedBy] = ManagedByTether
		o.SetLabels(labels)
		setAnnotation(o, AnnotationSrc, bundlePath)
	}
	SortObjects(objs)
	return objs, s.warnings, t.outside(bundlePath), nil
}
