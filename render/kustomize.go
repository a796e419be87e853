package render

import (
	"fmt"
	"io"
	"log"
	"os"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// kustomizeMu serialises kustomize builds: kustomize keeps process-wide state
// (the OpenAPI schema, transformer configs) that concurrent builds corrupt
// (kubernetes-sigs/kustomize#3659). Flux's kustomize-controller does the same.
var kustomizeMu sync.Mutex

// kustomizer is shared by all builds (under kustomizeMu): root-only load
// restrictions, no plugins except kustomize's builtins, no Helm, no exec or
// container functions. Sorting is left to SortObjects; ReorderOptionUnspecified
// keeps kustomize from logging when a kustomization sets sortOptions. Because
// tether rejects the openapi field, the builtin schema is parsed once per
// process and never reset.
var kustomizer = sync.OnceValue(func() *krusty.Kustomizer {
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	opts.PluginConfig = types.DisabledPluginConfig()
	opts.Reorder = krusty.ReorderOptionUnspecified
	return krusty.MakeKustomizer(opts)
})

// runKustomize is the build step; tests replace it to exercise panic recovery.
var runKustomize = func(fsys filesys.FileSystem, dir string) (resmap.ResMap, error) {
	return kustomizer().Run(fsys, dir)
}

// build runs kustomize on tree folder dir and returns the objects it emits.
// Objects of kinds known to be namespaced that name no namespace are put in
// namespace. quiet silences kustomize's direct writes to stderr (deprecation
// warnings, which the scanner already returned as unit warnings). A kustomize
// panic becomes an error.
func build(fsys filesys.FileSystem, dir, namespace string, quiet bool) (objs []*unstructured.Unstructured, err error) {
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			objs, err = nil, fmt.Errorf("kustomize build panicked: %v", r)
		}
	}()
	if quiet {
		defer silenceStderr()()
	}
	rm, err := runKustomize(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build: %w", err)
	}
	objs = make([]*unstructured.Unstructured, 0, rm.Size())
	for _, r := range rm.Resources() {
		m, err := r.Map()
		if err != nil {
			return nil, fmt.Errorf("kustomize output %s: %w", r.CurId(), err)
		}
		obj, ok := jsonValue(m).(map[string]any)
		if !ok {
			return nil, fmt.Errorf("kustomize output %s: not an object", r.CurId())
		}
		objs = append(objs, &unstructured.Unstructured{Object: obj})
	}
	defaultNamespace(objs, namespace)
	return objs, nil
}

// jsonValue converts a value decoded from YAML into the JSON-compatible types
// unstructured objects hold (int64 and float64 numbers). Decoding kustomize's
// nodes directly is several times cheaper than its MarshalJSON round trip.
func jsonValue(v any) any {
	switch val := v.(type) {
	case map[string]any:
		for k, item := range val {
			val[k] = jsonValue(item)
		}
		return val
	case []any:
		for i, item := range val {
			val[i] = jsonValue(item)
		}
		return val
	case int:
		return int64(val)
	case uint64:
		return float64(val)
	case float32:
		return float64(val)
	}
	return v
}

// defaultNamespace puts objects without a namespace into ns when their kind is
// namespaced: a builtin kind per kustomize's schema, or a custom resource whose
// CRD is among objs. Other kinds are left alone (see Unit.Namespace). It reads
// kyaml's global schema, so it runs under kustomizeMu.
func defaultNamespace(objs []*unstructured.Unstructured, ns string) {
	scopes := map[string]string{} // group/kind -> CRD scope
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
			scopes[group+"/"+kind] = scope
		}
	}
	for _, o := range objs {
		if o.GetNamespace() != "" || ns == "" {
			continue
		}
		namespaced, known := openapi.IsNamespaceScoped(kyaml.TypeMeta{APIVersion: o.GetAPIVersion(), Kind: o.GetKind()})
		if !known {
			namespaced = scopes[o.GroupVersionKind().Group+"/"+o.GetKind()] == "Namespaced"
		}
		if namespaced {
			o.SetNamespace(ns)
		}
	}
}

// silenceStderr points os.Stderr and the standard logger at nothing until the
// returned function runs. kustomize prints deprecation warnings straight to
// os.Stderr (api/internal/target/kusttarget.go) and unused vars through the
// standard logger; render returns warnings instead of logging. Only builds of
// kustomizations with deprecated fields pay for this, under kustomizeMu.
func silenceStderr() (restore func()) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return func() {}
	}
	stderr, logOut := os.Stderr, log.Writer()
	os.Stderr = devNull
	log.SetOutput(io.Discard)
	return func() {
		os.Stderr = stderr
		log.SetOutput(logOut)
		devNull.Close()
	}
}
